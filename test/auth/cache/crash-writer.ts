/**
 * Child process for crash-safety.test.ts: writes the token cache through the real plugin in a
 * tight loop until it is killed. Each version is self-checking JSON: `{ version, pad, check }`
 * with `check` = sha256(pad), padded to a random size so versions differ in length.
 *
 * argv: <cache file> [once]; env: CRASH_KEY_HEX, CRASH_CLIENT_ID.
 * Prints "ready <version found>" once it has read the existing file, then writes.
 * Kept free of msal and pino imports so it starts fast: the test spawns it hundreds of times.
 */
import { createHash } from 'node:crypto';
import type { TokenCacheContext } from '@azure/msal-node';
import type { Logger } from '../../../src/log.js';
import { EncryptedFileCache } from '../../../src/auth/cache/encrypted-file-cache.js';

const [file, mode] = process.argv.slice(2);
if (!file) throw new Error('usage: crash-writer.ts <cache file> [once]');
const complain = (fields: unknown, msg?: string): void => void process.stderr.write(`${JSON.stringify(fields)} ${msg ?? ''}\n`);
const logger = { debug() {}, info() {}, warn: complain, error: complain } as unknown as Logger;

const plugin = new EncryptedFileCache({
  path: file,
  key: Buffer.from(process.env.CRASH_KEY_HEX ?? '', 'hex'),
  clientId: process.env.CRASH_CLIENT_ID ?? '',
  logger,
  // Every kill would leave the lock behind for the next writer to wait out (10 s); the lock's own
  // crash behaviour is tested in lock.test.ts. This test is about the atomic write.
  lock: false,
});

let held = '';
let next = '';
const tokenCache = { deserialize: (s: string) => void (held = s), serialize: () => next };
const context = (changed: boolean) => ({ tokenCache, cacheHasChanged: changed }) as unknown as TokenCacheContext;

await plugin.beforeCacheAccess(context(false));
let version = held ? Number((JSON.parse(held) as { version?: number }).version ?? 0) : 0;
process.stdout.write(`ready ${version}\n`);

for (;;) {
  version += 1;
  const pad = String.fromCharCode(97 + (version % 26)).repeat(1024 + Math.floor(Math.random() * 192 * 1024));
  next = JSON.stringify({ version, pad, check: createHash('sha256').update(pad).digest('hex') });
  await plugin.afterCacheAccess(context(true));
  if (mode === 'once') break;
}
