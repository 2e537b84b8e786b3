import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeKeyFile } from '../auth/cache/index.js';
import { CREDENTIAL_NAME, SEALED_CREDENTIAL_PATH } from '../auth/key-source.js';
import { findConfigFile, loadConfigFile } from '../config/index.js';

/**
 * `graph-device-agent keygen`: makes a 32-byte token-cache key and says how to seal it, so the key
 * does not have to sit in plain text next to the cache. To change the key of an existing cache
 * without signing in again, `rekey` is the command.
 */
export async function keygen(options: { out: string | undefined; force: boolean; configPath: string | undefined }): Promise<number> {
  let out = options.out;
  let cachePath: string | undefined;
  try {
    const config = loadConfigFile(findConfigFile(options.configPath));
    out ??= config.cache.keyFile;
    cachePath = config.cache.path;
  } catch {
    out ??= path.resolve('token-cache.key');
  }
  await writeKeyFile(out, { force: options.force });
  process.stdout.write([
    `wrote a new token-cache key to ${out} (mode 0600)`,
    '',
    'To seal it for the systemd service (bound to the TPM where the board has one, else to this host):',
    `  sudo systemd-creds encrypt --name=${CREDENTIAL_NAME} ${out} ${SEALED_CREDENTIAL_PATH}`,
    `  sudo shred -u ${out}`,
    `The unit loads it with LoadCredentialEncrypted=${CREDENTIAL_NAME}:${SEALED_CREDENTIAL_PATH}`,
    ...(cachePath && existsSync(cachePath)
      ? ['', `The token cache ${cachePath} was encrypted with the previous key and will need a new sign-in;`,
        'to change the key without that, use `graph-device-agent rekey` instead.']
      : []),
    '',
  ].join('\n'));
  return 0;
}
