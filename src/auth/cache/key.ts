import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { writeFileAtomic } from '../../files/atomic-write.js';
import { KeyFileError } from './errors.js';
import { KEY_BYTES } from './format.js';

/**
 * The 32-byte AES key of the token cache, from a key file or a systemd credential
 * (`$CREDENTIALS_DIRECTORY/token-cache-key`, which is just a file too).
 *
 * Accepted contents, so that the key can come from `head -c 32 /dev/urandom`, `openssl rand -hex
 * 32`, `openssl rand -base64 32` or `systemd-creds`: 32 raw bytes, 64 hex characters, or base64
 * (or base64url) of 32 bytes, each with or without a trailing newline. The key is used as is:
 * it is already random, so nothing is derived from it (and nothing per cache access).
 */

export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** The command that creates a key file; quoted in error messages. */
export function keygenCommand(file: string): string {
  return `graph-device-agent keygen --out ${file}`;
}

export interface LoadKeyFileOptions {
  /**
   * Refuse a file that group or others may read (the default). Off for a systemd credential:
   * systemd puts it in a private per-service folder and grants the service user read access with
   * an ACL, which shows as group bits (`-r--r-----+`) although no group can read it.
   */
  requirePrivate?: boolean;
}

export async function loadKeyFile(file: string, options: LoadKeyFileOptions = {}): Promise<Buffer> {
  let content: Buffer;
  let mode: number;
  try {
    // One open for both the mode check and the read, so they see the same file.
    const handle = await open(file, 'r');
    try {
      mode = (await handle.stat()).mode;
      content = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new KeyFileError(file, 'missing',
        `token cache key file ${file} does not exist: create one with \`${keygenCommand(file)}\` (or point "cache.keyFile" at an existing key)`,
        { cause: err });
    }
    if (code === 'EISDIR') {
      throw new KeyFileError(file, 'unreadable', `token cache key file ${file} is a directory: point "cache.keyFile" at the key file itself`, { cause: err });
    }
    throw new KeyFileError(file, 'unreadable',
      `token cache key file ${file} cannot be read (${code ?? String(err)}): check that the service user owns it`, { cause: err });
  }
  // Refuse a key others can read: the cache is only as secret as its key. Checked for every
  // load, the way ssh refuses a private key with open permissions.
  if ((options.requirePrivate ?? true) && (mode & 0o077) !== 0) {
    content.fill(0);
    throw new KeyFileError(file, 'permissions',
      `token cache key file ${file} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): run \`chmod 600 ${file}\``);
  }
  const key = parseKey(content);
  content.fill(0);
  if (!key) {
    throw new KeyFileError(file, 'format',
      `token cache key file ${file} does not hold a key: expected 32 raw bytes, 64 hex characters or base64 of 32 bytes (found ${content.length} bytes); create a new one with \`${keygenCommand(file)} --force\` (the existing cache then needs a new sign-in)`);
  }
  return key;
}

/** The key in `content`, or undefined when it is none of the accepted encodings. */
export function parseKey(content: Buffer): Buffer | undefined {
  if (content.length === KEY_BYTES) return Buffer.from(content);
  const text = content.toString('latin1').replace(/\r?\n$/, '').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) {
    const decoded = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    if (decoded.length === KEY_BYTES) return decoded;
  }
  return undefined;
}

export interface WriteKeyFileOptions {
  /** Replace an existing key file. Without it an existing key is never overwritten. */
  force?: boolean;
  /** The key to write; a new random one by default. */
  key?: Buffer;
  /** When root: owned like the folder it is in (see AtomicWriteOptions.keepOwner). */
  keepOwner?: boolean;
}

/**
 * Writes a key file (64 hex characters and a newline, mode 0600, folder 0700) and returns the
 * key. Refuses to replace an existing key unless `force`: losing the key loses the cache.
 */
export async function writeKeyFile(file: string, options: WriteKeyFileOptions = {}): Promise<Buffer> {
  const key = options.key ?? generateKey();
  if (key.length !== KEY_BYTES) throw new RangeError(`a token cache key is ${KEY_BYTES} bytes, got ${key.length}`);
  try {
    await writeFileAtomic(file, `${key.toString('hex')}\n`, { mode: 0o600, dirMode: 0o700, exclusive: !options.force, keepOwner: options.keepOwner ?? false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyFileError(file, 'exists',
        `token cache key file ${file} already exists; not replacing it (the token cache encrypted with it would become unreadable). Use --force to replace it anyway`,
        { cause: err });
    }
    throw err;
  }
  return key;
}
