import path from 'node:path';
import { writeKeyFile } from '../auth/cache/index.js';
import { findConfigFile, loadConfigFile } from '../config/index.js';

/**
 * `graph-device-agent keygen`: makes a 32-byte token-cache key and says how to seal it, so the key
 * does not have to sit in plain text next to the cache.
 */
export async function keygen(options: { out: string | undefined; force: boolean; configPath: string | undefined }): Promise<number> {
  let out = options.out;
  if (!out) {
    try {
      out = loadConfigFile(findConfigFile(options.configPath)).cache.keyFile;
    } catch {
      out = path.resolve('token-cache.key');
    }
  }
  await writeKeyFile(out, { force: options.force });
  process.stdout.write([
    `wrote a new token-cache key to ${out} (mode 0600)`,
    '',
    'To seal it for the systemd service (bound to the TPM where the board has one, else to this host):',
    `  sudo systemd-creds encrypt --name=token-cache-key ${out} /etc/credstore.encrypted/graph-device-agent.token-cache-key`,
    `  sudo shred -u ${out}`,
    'The unit loads it with LoadCredentialEncrypted=token-cache-key:/etc/credstore.encrypted/graph-device-agent.token-cache-key',
    '',
  ].join('\n'));
  return 0;
}
