/**
 * Runs the identity emulator on its own, for trying the agent by hand:
 *
 *   npx tsx test/support/identity-emulator/main.ts [--port N] [--tenant T] [--interval SEC]
 *
 * Prints the authority, the CA file and the verification page, then a ready-to-run curl line for
 * every device code issued. Emulator events go to stderr as JSON lines. Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createLogger } from '../../../src/log.js';
import { startIdentityEmulator } from './index.js';

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name} needs a non-negative number, got "${value}"\n`);
    process.exit(64);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    tenant: { type: 'string' },
    interval: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write('usage: tsx test/support/identity-emulator/main.ts [--port N] [--tenant T] [--interval SEC]\n');
  process.exit(0);
}

const port = numberOption('port', values.port);
const intervalSec = numberOption('interval', values.interval);
const idp = await startIdentityEmulator({
  ...(port !== undefined ? { port } : {}),
  ...(intervalSec !== undefined ? { intervalSec } : {}),
  ...(values.tenant ? { tenant: values.tenant } : {}),
  logger: createLogger({ destination: pino.destination({ dest: 2, sync: true }) }),
});

const curl = (code: string): string =>
  `curl --cacert ${idp.caFile} -d user_code=${code} -d action=approve ${idp.verificationUri}`;

process.stdout.write(
  [
    'identity emulator (NOT Microsoft Entra ID) is listening',
    `  authority          ${idp.authority}`,
    `  knownAuthorities   ${idp.knownAuthority}`,
    `  CA file            ${idp.caFile}`,
    `  verification page  ${idp.verificationUri}`,
    `  Graph              ${idp.graphBaseUrl}`,
    `  users              ${idp.users.map((u) => u.userPrincipalName).join(', ')} (add -d user=UPN to pick one)`,
    `  approve a code     ${curl('CODE')}`,
    '',
  ].join('\n'),
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping\n`);
  await idp.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

// One line per issued code, ready to paste. The loop ends when close() rejects the wait.
for (;;) {
  try {
    const code = await idp.waitForDeviceCode();
    process.stdout.write(`device code ${code.userCode} for client ${code.clientId}:\n  ${curl(code.userCode)}\n`);
  } catch {
    break;
  }
}
