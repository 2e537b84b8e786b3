import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import { fsyncDir, removeStaleTempFiles, writeFileAtomic } from '../../files/atomic-write.js';
import { CacheUnreadableError, KeyFileError } from './errors.js';
import { decodeCache, encodeCache } from './format.js';
import { generateKey, loadKeyFile, writeKeyFile } from './key.js';
import { CacheLock, type CacheLockOptions } from './lock.js';

/**
 * Re-encrypts the token cache under a new key, in an order that never leaves the cache
 * unreadable by both keys, whatever moment the process is killed or the power fails:
 *
 *  1. (under the cache lock) read the cache and decrypt it with the current key;
 *  2. write the new key to its own file, durably (0600, fsync'd, never over an existing key);
 *  3. replace the cache with the re-encrypted one (atomic rename, fsync'd);
 *  4. only for a key file: rename the new key over the old one (atomic, fsync'd).
 *
 * Before 3 the cache opens with the old key, after 3 with the new one, and both keys are on disk
 * throughout. Between 3 and 4 the key file is still the old one: running `rekey` again notices
 * that the cache opens with the pending new key and finishes step 4.
 */

export interface RekeyOptions {
  cachePath: string;
  clientId: string;
  /** The key the cache is encrypted with now. */
  currentKey: Buffer;
  /** Where the new key is written first (0600). */
  newKeyFile: string;
  /** The key file to replace with the new key at the end; undefined when the key is not a file of ours (credential, environment). */
  replaceKeyFile?: string;
  /** An existing file at `newKeyFile` that does not open the cache is a leftover of an interrupted rekey, safe to replace. */
  newKeyFileIsOurs?: boolean;
  logger: Logger;
  /** The cache lock (see lock.ts); false only for tests that kill the process on purpose. */
  lock?: CacheLockOptions | false;
  /** For tests; a random key by default. */
  newKey?: Buffer;
}

export interface RekeyResult {
  /** Where the new key is now. */
  keyFile: string;
  /** False when there was no cache (only a new key was made). */
  cacheRekeyed: boolean;
  /** An interrupted rekey was finished instead of starting a new one. */
  resumed: boolean;
}

/** The cache could not be re-encrypted; nothing was changed. */
export class RekeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RekeyError';
  }
}

export async function rekeyCache(options: RekeyOptions): Promise<RekeyResult> {
  const lock = options.lock === false ? undefined : new CacheLock(options.cachePath, options.logger, options.lock ?? {});
  const run = (): Promise<RekeyResult> => rekeyLocked(options);
  return lock ? lock.with(run) : run();
}

async function rekeyLocked(options: RekeyOptions): Promise<RekeyResult> {
  const { cachePath, clientId, newKeyFile, logger: log } = options;
  let data: Buffer | undefined;
  try {
    data = await readFile(cachePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new RekeyError(`cannot read the token cache ${cachePath} (${(err as NodeJS.ErrnoException).code ?? String(err)}); nothing was changed`, { cause: err });
    }
  }

  let plaintext: string | undefined;
  if (data) {
    try {
      plaintext = decodeCache(data, options.currentKey, clientId, cachePath);
    } catch (err) {
      if (!(err instanceof CacheUnreadableError)) throw err;
      // An interrupted rekey: the cache already opens with the pending new key.
      const pending = await pendingKeyOpening(newKeyFile, data, clientId, cachePath);
      if (pending) {
        log.warn({ event: 'cache.rekey_resumed', key_file: newKeyFile }, `finishing an interrupted rekey: the cache already uses the new key in ${newKeyFile}`);
        const keyFile = await switchKeyFile(options);
        // Temp files of earlier, killed runs (they may hold a key), as after a whole rekey.
        await Promise.all([removeStaleTempFiles(cachePath), removeStaleTempFiles(newKeyFile)]).catch(() => undefined);
        return { keyFile, cacheRekeyed: true, resumed: true };
      }
      throw new RekeyError(`${err.message}; nothing was changed (rekey needs the key the cache is encrypted with)`, { cause: err });
    }
  }

  const newKey = options.newKey ?? generateKey();
  try {
    // keepOwner: beside the agent's key file in its state folder, the service user must read it.
    await writeKeyFile(newKeyFile, { key: newKey, force: options.newKeyFileIsOurs ?? false, keepOwner: options.replaceKeyFile !== undefined });
  } catch (err) {
    if (err instanceof KeyFileError && err.problem === 'exists') {
      throw new RekeyError(`${newKeyFile} already exists: remove it or choose another --new-key-file; nothing was changed`, { cause: err });
    }
    throw err;
  }
  if (plaintext !== undefined) {
    await writeFileAtomic(cachePath, encodeCache(plaintext, newKey, clientId), { mode: 0o600, dirMode: 0o700, keepOwner: true });
  }
  const keyFile = await switchKeyFile(options);
  // Temp files of earlier, killed runs (they may hold a key).
  await Promise.all([removeStaleTempFiles(cachePath), removeStaleTempFiles(newKeyFile)]).catch(() => undefined);
  log.info({ event: 'cache.rekeyed', key_file: keyFile, cache: cachePath, cache_rekeyed: plaintext !== undefined },
    plaintext !== undefined ? `re-encrypted the token cache under the new key in ${keyFile}` : `no token cache yet; the new key is in ${keyFile}`);
  return { keyFile, cacheRekeyed: plaintext !== undefined, resumed: false };
}

/** The key at `file`, if it exists and opens `data`. */
async function pendingKeyOpening(file: string, data: Buffer, clientId: string, cachePath: string): Promise<Buffer | undefined> {
  let key: Buffer;
  try {
    key = await loadKeyFile(file);
  } catch {
    return undefined;
  }
  try {
    decodeCache(data, key, clientId, cachePath);
    return key;
  } catch {
    return undefined;
  }
}

/** Step 4: the new key takes the old key file's place (atomically). Returns where the key is. */
async function switchKeyFile(options: RekeyOptions): Promise<string> {
  if (!options.replaceKeyFile) return options.newKeyFile;
  await rename(options.newKeyFile, options.replaceKeyFile);
  await fsyncDir(path.dirname(options.replaceKeyFile));
  return options.replaceKeyFile;
}
