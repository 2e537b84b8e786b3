import { PublicClientApplication, type AccountInfo } from '@azure/msal-node';
import type { ResolvedConfig } from '../config/load.js';
import { EncryptedFileCache } from '../auth/cache/encrypted-file-cache.js';
import { resolveKey } from '../auth/key-source.js';
import { commandContext, readAgentProcess, type CommandContext, type CommandIo } from './status.js';

/**
 * `graph-device-agent logout [--all]`: removes the account the agent uses (the first one), or
 * every account, through msal-node's removeAccount (the account and all its tokens), with the
 * cache lock held. A running agent re-reads the changed file at its next token request, finds no
 * account and asks for a new sign-in.
 */

/**
 * The plugin and an msal application over it, for commands that only touch the cache (no network:
 * removeAccount and getAllAccounts never call the server). Refuses (returns a message) when the
 * cache exists but does not open with this key: the plugin would move it aside, and with the
 * wrong key (a command run without the service's credential) that would sign the agent out.
 */
export async function openCommandCache(ctx: Pick<CommandContext, 'config' | 'env' | 'logger'>):
Promise<{ plugin: EncryptedFileCache; app: PublicClientApplication } | { refused: string }> {
  const { config } = ctx;
  const key = await resolveKey({ config, env: ctx.env, logger: ctx.logger });
  const plugin = new EncryptedFileCache({ path: config.cache.path, key: key.key, clientId: config.auth.clientId, logger: ctx.logger });
  key.key.fill(0);
  const state = await plugin.status();
  if (state.exists && !state.readable) {
    return {
      refused: `${state.unreadableMessage ?? `token cache ${state.path} is unreadable`}.\n` +
        `Nothing was changed. Run this command with the agent's key (key source: ${key.source} ${key.where}); ` +
        '`graph-device-agent status` shows what the agent uses.',
    };
  }
  return { plugin, app: cacheApp(config, plugin) };
}

export function cacheApp(config: ResolvedConfig, cachePlugin: EncryptedFileCache): PublicClientApplication {
  return new PublicClientApplication({
    auth: { clientId: config.auth.clientId, authority: config.auth.authority, knownAuthorities: config.auth.knownAuthorities },
    cache: { cachePlugin },
  });
}

export function describeAccount(a: AccountInfo): string {
  return a.name && a.name !== a.username ? `${a.username} (${a.name})` : a.username;
}

export async function logoutCommand(options: CommandIo & { all?: boolean }): Promise<number> {
  const ctx = commandContext(options);
  const opened = await openCommandCache(ctx);
  if ('refused' in opened) {
    ctx.stderr.write(`${opened.refused}\n`);
    return 1;
  }
  const cache = opened.app.getTokenCache();
  const accounts = await cache.getAllAccounts();
  if (accounts.length === 0) {
    ctx.out('No account is signed in.\n');
    return 0;
  }
  // The agent signs in with the first account; without --all that is the one to remove.
  const removing = options.all ? accounts : accounts.slice(0, 1);
  for (const account of removing) {
    await cache.removeAccount(account);
    ctx.out(`Signed out ${describeAccount(account)}.\n`);
  }
  const left = options.all ? [] : accounts.slice(1);
  if (left.length > 0) ctx.out(`Still signed in: ${left.map(describeAccount).join(', ')} (use --all to remove every account).\n`);
  const agent = await readAgentProcess(ctx.config.stateDirectory);
  if (agent?.running) ctx.out(`The agent (pid ${agent.pid}) asks for a new sign-in at its next token request.\n`);
  return 0;
}
