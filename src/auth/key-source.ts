import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/errors.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { KeyFileError, loadKeyFile, parseKey, writeKeyFile } from './cache/index.js';

/**
 * Where the token cache's key comes from. First found wins:
 *
 *  1. a systemd credential, `$CREDENTIALS_DIRECTORY/token-cache-key`: the key sealed with
 *     `systemd-creds encrypt` (TPM2 where the board has one, else the host key) and loaded by the
 *     unit's `LoadCredentialEncrypted=`. The best a Pi can do without a secure element.
 *  2. a key file (`cache.keyFile`, or a key made earlier in the state directory), refused when
 *     group or others may read it.
 *  3. the environment variable GRAPH_DEVICE_AGENT_CACHE_KEY (hex or base64), accepted with a
 *     warning: it is easy to leak (`systemctl show`, a container's `inspect`, a shell history).
 *  4. only for the daemon (`create`): a new key file in the state directory, with a warning that
 *     says how to seal it. A command (`login`, `status`...) never makes a key: a cache written
 *     under a key the daemon does not have would be moved aside by it.
 */

export type KeySource = 'credential' | 'key-file' | 'environment' | 'generated';

export interface ResolvedKey {
  /** The 32 bytes. Never log or print them. */
  key: Buffer;
  source: KeySource;
  /** A path, or the variable's name: for `status` and the start-up log line. */
  where: string;
}

export const CREDENTIAL_NAME = 'token-cache-key';
export const KEY_ENV_VAR = 'GRAPH_DEVICE_AGENT_CACHE_KEY';
/** Where systemd/install.sh puts the sealed key (and the unit loads it from). */
export const SEALED_CREDENTIAL_PATH = '/etc/credstore.encrypted/graph-device-agent.token-cache-key';
export const DEFAULT_KEY_FILE_NAME = 'token-cache.key';

export interface ResolveKeyOptions {
  config: Pick<ResolvedConfig, 'configFile' | 'stateDirectory' | 'cache'>;
  env?: NodeJS.ProcessEnv;
  /** Gets the `cache.key_source` line (and the warnings); nothing is logged without it. */
  logger?: Logger;
  /** No key anywhere: create one in the state directory (the daemon) instead of failing (commands). */
  create?: boolean;
}

/** Finds the cache key, or throws a {@link ConfigError} (exit 78) that says how to provide one. */
export async function resolveKey(options: ResolveKeyOptions): Promise<ResolvedKey> {
  const resolved = await findKey(options);
  options.logger?.info({ event: 'cache.key_source', source: resolved.source, where: resolved.where },
    `token cache key: ${describeKeySource(resolved)}`);
  return resolved;
}

/** "systemd credential /run/credentials/…/token-cache-key", for people. */
export function describeKeySource(k: Pick<ResolvedKey, 'source' | 'where'>): string {
  switch (k.source) {
    case 'credential':
      return `systemd credential ${k.where}`;
    case 'key-file':
      return `key file ${k.where}`;
    case 'environment':
      return `environment variable ${k.where}`;
    case 'generated':
      return `key file ${k.where} (created by the agent; not sealed)`;
  }
}

/** The key file made by the daemon when there is no other key. */
export function defaultKeyFile(config: Pick<ResolvedConfig, 'stateDirectory'>): string {
  return path.join(config.stateDirectory, DEFAULT_KEY_FILE_NAME);
}

async function findKey(options: ResolveKeyOptions): Promise<ResolvedKey> {
  const { config } = options;
  const env = options.env ?? process.env;
  const log = options.logger;
  const fail = (problem: string): ConfigError => new ConfigError(config.configFile, [problem]);
  const load = async (file: string, field: string, loadOptions: { requirePrivate?: boolean } = {}): Promise<Buffer> => {
    try {
      return await loadKeyFile(file, loadOptions);
    } catch (err) {
      if (err instanceof KeyFileError) throw fail(`${field}: ${err.message}`);
      throw err;
    }
  };

  const generatedFile = defaultKeyFile(config);
  const credentialsDir = env.CREDENTIALS_DIRECTORY;
  const credential = credentialsDir ? path.join(credentialsDir, CREDENTIAL_NAME) : undefined;
  // The configuration loader fills cache.keyFile with the credential or the state directory's
  // file when none is configured; anything else was set by the person.
  const configuredKeyFile = config.cache.keyFile !== generatedFile && config.cache.keyFile !== credential ? config.cache.keyFile : undefined;

  // 1. systemd credential
  if (credential) {
    if (existsSync(credential)) {
      return { key: await load(credential, 'systemd credential', { requirePrivate: false }), source: 'credential', where: credential };
    }
    // The unit passes credentials but not ours. With the short form (no path) a credential
    // systemd cannot find is skipped silently: going on with another key would move the
    // existing cache aside and ask for a new sign-in on every boot.
    if (!configuredKeyFile) {
      throw fail(`the systemd credential "${CREDENTIAL_NAME}" is missing from $CREDENTIALS_DIRECTORY (${credentialsDir}): ` +
        `load it in the unit with LoadCredentialEncrypted=${CREDENTIAL_NAME}:${SEALED_CREDENTIAL_PATH} ` +
        `(with a path: the short form LoadCredentialEncrypted=${CREDENTIAL_NAME} skips a credential it cannot find without a word); ` +
        `make and seal a key with \`graph-device-agent keygen\``);
    }
  }

  // 2. key file
  if (configuredKeyFile) {
    return { key: await load(configuredKeyFile, 'cache.keyFile'), source: 'key-file', where: configuredKeyFile };
  }
  if (existsSync(generatedFile)) {
    return { key: await load(generatedFile, 'token cache key'), source: 'key-file', where: generatedFile };
  }

  // 3. environment
  const fromEnv = env[KEY_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = parseKey(Buffer.from(fromEnv, 'latin1'));
    if (!key) {
      // Never echo the value: it is meant to be a secret, even when malformed.
      throw fail(`${KEY_ENV_VAR} does not hold a key: expected 64 hex characters or base64 of 32 bytes (it has ${fromEnv.length} characters); make one with \`openssl rand -hex 32\``);
    }
    log?.warn({ event: 'cache.key_from_env', variable: KEY_ENV_VAR },
      `the token cache key comes from the environment variable ${KEY_ENV_VAR}: environments leak easily (systemctl show, docker inspect, shell history); ` +
      'prefer a systemd credential (see `graph-device-agent keygen`)');
    return { key, source: 'environment', where: KEY_ENV_VAR };
  }

  // 4. a new key file (the daemon's first start)
  if (options.create) {
    let key: Buffer;
    try {
      key = await writeKeyFile(generatedFile);
    } catch (err) {
      // Another process made it a moment ago: use that one.
      if (err instanceof KeyFileError && err.problem === 'exists') return { key: await load(generatedFile, 'token cache key'), source: 'key-file', where: generatedFile };
      throw fail(`cannot create the token cache key ${generatedFile} (${(err as NodeJS.ErrnoException).code ?? String(err)}): check that the service user owns ${config.stateDirectory}`);
    }
    const cacheExists = existsSync(config.cache.path);
    log?.warn({ event: 'cache.key_created', key_file: generatedFile, cache_existed: cacheExists },
      `created a new token-cache key at ${generatedFile}; seal it with systemd-creds (see "graph-device-agent keygen")` +
      (cacheExists ? '; the existing cache was encrypted with another key and will be moved aside' : ''));
    return { key, source: 'generated', where: generatedFile };
  }

  const looked = [
    credential ? `the systemd credential ${credential}` : 'no systemd credential ($CREDENTIALS_DIRECTORY is not set)',
    `the key file ${generatedFile}`,
    `the environment variable ${KEY_ENV_VAR}`,
  ];
  const sealedHint = existsSync(SEALED_CREDENTIAL_PATH)
    ? `. The service's key is sealed in ${SEALED_CREDENTIAL_PATH}: run this command as the service does, e.g. ` +
      `\`sudo systemd-run --pipe --wait --quiet -p DynamicUser=yes -p User=graph-device-agent -p StateDirectory=graph-device-agent ` +
      `-p LoadCredentialEncrypted=${CREDENTIAL_NAME}:${SEALED_CREDENTIAL_PATH} graph-device-agent <command> --config <file>\``
    : '. The agent creates a key at its first start; or make one with `graph-device-agent keygen`';
  throw fail(`no token cache key found (looked for ${looked.join(', ')})${sealedHint}`);
}
