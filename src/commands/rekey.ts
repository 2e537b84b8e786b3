import path from 'node:path';
import { rekeyCache, RekeyError } from '../auth/cache/rekey.js';
import { CREDENTIAL_NAME, DEFAULT_KEY_FILE_NAME, KEY_ENV_VAR, SEALED_CREDENTIAL_PATH, describeKeySource, resolveKey } from '../auth/key-source.js';
import { commandContext, readAgentProcess, type CommandIo } from './context.js';

/**
 * `graph-device-agent rekey [--new-key-file FILE]`: re-encrypts the token cache under a new key
 * (order of operations and crash safety: auth/cache/rekey.ts), then says what to do with the key:
 *
 * - key file: the new key replaces it (`<key>.new`, then renamed over it) unless --new-key-file
 *   puts it elsewhere;
 * - systemd credential or environment: the new key is written to a file (by default
 *   `STATE/token-cache.key.new`) to be sealed with systemd-creds (or put in the variable).
 *
 * The agent must be stopped: it holds the old key, and would move the re-encrypted cache aside
 * as unreadable at its next look. Exit codes: 0 done, 1 refused or failed (nothing changed).
 */

export interface RekeyCommandOptions extends CommandIo {
  newKeyFile?: string | undefined;
}

export async function rekeyCommand(options: RekeyCommandOptions): Promise<number> {
  const ctx = commandContext(options);
  const { config, out } = ctx;
  const agent = await readAgentProcess(config.stateDirectory);
  if (agent?.running) {
    ctx.stderr.write(`The agent is running (pid ${agent.pid}) with the current key: stop it first (sudo systemctl stop graph-device-agent), then rekey. Nothing was changed.\n`);
    return 1;
  }
  const current = await resolveKey({ config, env: ctx.env, logger: ctx.logger });
  const ownsKeyFile = current.source === 'key-file' || current.source === 'generated';
  const explicit = options.newKeyFile ? path.resolve(options.newKeyFile) : undefined;
  const newKeyFile = explicit ?? (ownsKeyFile ? `${current.where}.new` : path.join(config.stateDirectory, `${DEFAULT_KEY_FILE_NAME}.new`));

  let result;
  try {
    result = await rekeyCache({
      cachePath: config.cache.path,
      clientId: config.auth.clientId,
      currentKey: current.key,
      newKeyFile,
      ...(ownsKeyFile && !explicit ? { replaceKeyFile: current.where } : {}),
      newKeyFileIsOurs: !explicit,
      logger: ctx.logger,
    });
  } catch (err) {
    if (!(err instanceof RekeyError)) throw err;
    ctx.stderr.write(`${err.message}\n`);
    return 1;
  } finally {
    current.key.fill(0);
  }

  out(result.resumed ? `Finished an interrupted rekey: the token cache already used the new key.\n`
    : result.cacheRekeyed ? `Re-encrypted the token cache ${config.cache.path} under a new key.\n`
    : `There is no token cache yet; made a new key only.\n`);
  out(`The old key (${describeKeySource(current)}) no longer opens it.\n`);
  const seal = [
    `  sudo systemd-creds encrypt --name=${CREDENTIAL_NAME} ${result.keyFile} ${SEALED_CREDENTIAL_PATH}`,
    `  sudo shred -u ${result.keyFile}`,
  ];
  if (result.keyFile === current.where) {
    out(`The new key replaced ${result.keyFile} (mode 0600). To seal it for the systemd service instead:\n${seal.join('\n')}\n`);
  } else if (current.source === 'credential') {
    out(`The new key is in ${result.keyFile} (mode 0600). Seal it in place of the old credential, then start the agent:\n${seal.join('\n')}\n  sudo systemctl start graph-device-agent\n`);
  } else if (current.source === 'environment') {
    out(`The new key is in ${result.keyFile} (mode 0600): set ${KEY_ENV_VAR} to its content and delete the file, or better, seal it:\n${seal.join('\n')}\n`);
  } else {
    out(`The new key is in ${result.keyFile} (mode 0600): set "cache.keyFile" to it in ${config.configFile ?? 'the configuration'}, or seal it:\n${seal.join('\n')}\n`);
  }
  return 0;
}
