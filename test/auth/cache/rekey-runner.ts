/**
 * Child process for rekey.test.ts: rekeys the cache in a loop until it is killed, the way
 * `graph-device-agent rekey` does it for a key file (new key to `<key>.new`, cache re-encrypted,
 * `<key>.new` renamed over `<key>`). Each round reads the current key from the key file first.
 *
 * argv: <cache file> <key file> [once]; env: REKEY_CLIENT_ID. Prints "ready" before the first round.
 * Without the lock: every kill would leave it for the next runner to wait out (lock.test.ts covers it).
 */
import { rekeyCache } from '../../../src/auth/cache/rekey.js';
import { loadKeyFile } from '../../../src/auth/cache/key.js';
import type { Logger } from '../../../src/log.js';

const [cachePath, keyFile, mode] = process.argv.slice(2);
if (!cachePath || !keyFile) throw new Error('usage: rekey-runner.ts <cache file> <key file> [once]');
const complain = (fields: unknown, msg?: string): void => void process.stderr.write(`${JSON.stringify(fields)} ${msg ?? ''}\n`);
// An interrupted round is finished by the next runner with a warning: expected here, not a failure.
const logger = { debug() {}, info() {}, warn() {}, error: complain } as unknown as Logger;

process.stdout.write('ready\n');
for (;;) {
  await rekeyCache({
    cachePath, clientId: process.env.REKEY_CLIENT_ID ?? '', currentKey: await loadKeyFile(keyFile),
    newKeyFile: `${keyFile}.new`, replaceKeyFile: keyFile, newKeyFileIsOurs: true, logger, lock: false,
  });
  if (mode === 'once') break;
}
