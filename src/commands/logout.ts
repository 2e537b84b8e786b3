import { openCommandIdentity } from '../app/identity-and-graph.js';
import { commandContext, describeAccount, readAgentProcess, type CommandIo } from './context.js';

/**
 * `graph-device-agent logout [--all]`: removes the account the agent uses (the first one), or
 * every account, through msal-node's removeAccount (the account and all its tokens), with the
 * cache lock held. A running agent re-reads the changed file at its next token request, finds no
 * account and asks for a new sign-in. The identity is the daemon's (app/identity-and-graph.ts),
 * with the same settings; removing accounts never calls the server.
 */
export async function logoutCommand(options: CommandIo & { all?: boolean }): Promise<number> {
  const ctx = commandContext(options);
  const opened = await openCommandIdentity(ctx);
  if ('refused' in opened) {
    ctx.stderr.write(`${opened.refused}\n`);
    return 1;
  }
  try {
    const { identity } = opened;
    const accounts = await identity.accounts();
    if (accounts.length === 0) {
      ctx.out('No account is signed in.\n');
      return 0;
    }
    // The agent signs in with the first account; without --all that is the one to remove.
    const removing = options.all ? accounts : accounts.slice(0, 1);
    for (const account of removing) {
      await identity.signOutAccount(account);
      ctx.out(`Signed out ${describeAccount(account)}.\n`);
    }
    const left = options.all ? [] : accounts.slice(1);
    if (left.length > 0) ctx.out(`Still signed in: ${left.map(describeAccount).join(', ')} (use --all to remove every account).\n`);
    const agent = await readAgentProcess(ctx.config.stateDirectory);
    if (agent?.running) ctx.out(`The agent (pid ${agent.pid}) asks for a new sign-in at its next token request.\n`);
    return 0;
  } finally {
    await opened.identity.close();
    opened.close();
  }
}
