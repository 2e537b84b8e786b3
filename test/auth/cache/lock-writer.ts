/**
 * Child process for lock.test.ts: changes the token cache through the real plugin and msal-node's
 * real TokenCache, calling the hooks exactly as msal does for a write (a TokenCacheContext made
 * with "changed" = true, beforeCacheAccess, the in-memory change, afterCacheAccess in a finally).
 *
 * argv: <cache file> <writer id> <mode> [count]; env: LOCK_KEY_HEX, LOCK_CLIENT_ID, LOCK_STALE_MS,
 * LOCK_OFF=1 (no lock: to see the test fail).
 *   mode "add":  prints "ready", waits for "go" on stdin, then adds `count` accounts, each in its
 *                own write (`<writer id>-<n>`), and exits 0.
 *   mode "hold": opens one write, adds `<writer id>-held`, prints "holding" and waits: "release"
 *                on stdin finishes the write; SIGKILL leaves the lock behind.
 * Warnings and errors of the plugin go to stderr.
 */
import { createInterface } from 'node:readline';
import { PublicClientApplication, TokenCacheContext } from '@azure/msal-node';
import type { Logger } from '../../../src/log.js';
import { EncryptedFileCache } from '../../../src/auth/cache/encrypted-file-cache.js';
import { accountEntry } from './helpers.js';

const [file, writer, mode, countArg] = process.argv.slice(2);
if (!file || !writer || (mode !== 'add' && mode !== 'hold')) throw new Error('usage: lock-writer.ts <cache file> <writer id> add|hold [count]');
const clientId = process.env.LOCK_CLIENT_ID ?? '';
const complain = (fields: unknown, msg?: string): void => void process.stderr.write(`${JSON.stringify(fields)} ${msg ?? ''}\n`);
const logger = { debug() {}, info() {}, warn: complain, error: complain, child: () => logger } as unknown as Logger;

const plugin = new EncryptedFileCache({
  path: file,
  key: Buffer.from(process.env.LOCK_KEY_HEX ?? '', 'hex'),
  clientId,
  logger,
  lock: process.env.LOCK_OFF === '1' ? false : { staleMs: Number(process.env.LOCK_STALE_MS ?? 10_000) },
});
const tokenCache = new PublicClientApplication({
  auth: { clientId, authority: 'https://login.microsoftonline.com/organizations' },
  cache: { cachePlugin: plugin },
}).getTokenCache();

const lines = createInterface({ input: process.stdin });
const nextLine = (): Promise<string> => new Promise((resolve) => lines.once('line', resolve));

/** One write, as msal's ResponseHandler does it when it saves a token reply. */
async function write(name: string, whileOpen?: () => Promise<void>): Promise<void> {
  const ctx = new TokenCacheContext(tokenCache, true);
  try {
    await plugin.beforeCacheAccess(ctx);
    tokenCache.deserialize(accountEntry(name, clientId)); // merges into what the file held
    await whileOpen?.();
  } finally {
    await plugin.afterCacheAccess(ctx);
  }
}

if (mode === 'add') {
  process.stdout.write('ready\n');
  await nextLine();
  for (let n = 0; n < Number(countArg ?? 20); n += 1) await write(`${writer}-${n}`);
  lines.close();
} else {
  await write(`${writer}-held`, async () => {
    process.stdout.write('holding\n');
    await nextLine();
  });
  process.stdout.write('released\n');
  lines.close();
}
