import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CacheUnreadableError, type CacheUnreadableReason } from './errors.js';

/**
 * The token cache file format, version 1:
 *
 *   offset  size  field
 *   0       4     magic "GDAC"
 *   4       1     format version (1)
 *   5       1     cipher id (1 = AES-256-GCM)
 *   6       12    nonce, random for every write
 *   18      n     ciphertext of msal's cache JSON (UTF-8)
 *   18+n    16    GCM tag
 *
 * Associated data = the 18 header bytes + the client id (UTF-8): a changed version/cipher byte
 * fails authentication, and a cache written for one app registration is refused by another
 * instead of handing its refresh token to the wrong client id.
 *
 * Unknown versions and ciphers are refused, never guessed at: a newer release may change the
 * layout, and reading it as version 1 would only produce a misleading "wrong key".
 */

export const MAGIC = Buffer.from('GDAC', 'ascii');
export const FORMAT_VERSION = 1;
export const CIPHER_AES_256_GCM = 1;
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const HEADER_BYTES = MAGIC.length + 1 + 1 + NONCE_BYTES;

/**
 * True when `data` starts like a cache file of ours, or is the start of one (a write torn short,
 * down to zero bytes). Anything else at the cache path is someone else's file: never moved aside
 * or replaced.
 */
export function looksLikeOurCache(data: Buffer): boolean {
  const n = Math.min(data.length, MAGIC.length);
  return data.subarray(0, n).equals(MAGIC.subarray(0, n));
}

function header(nonce: Buffer): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([FORMAT_VERSION, CIPHER_AES_256_GCM]), nonce]);
}

function associatedData(headerBytes: Buffer, clientId: string): Buffer {
  return Buffer.concat([headerBytes, Buffer.from(clientId, 'utf8')]);
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new RangeError(`the token cache key must be ${KEY_BYTES} bytes, got ${key.length}`);
}

/** Encrypts msal's serialized cache. `nonce` is for tests only; normally fresh random bytes. */
export function encodeCache(plaintext: string, key: Buffer, clientId: string, nonce: Buffer = randomBytes(NONCE_BYTES)): Buffer {
  checkKey(key);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`);
  const head = header(nonce);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(head, clientId));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([head, body, cipher.getAuthTag()]);
}

/**
 * Decrypts a cache file's bytes to msal's cache JSON, or throws a {@link CacheUnreadableError}
 * whose reason and message say what is wrong with `file`.
 */
export function decodeCache(data: Buffer, key: Buffer, clientId: string, file: string): string {
  checkKey(key);
  const fail = (reason: CacheUnreadableReason, why: string): CacheUnreadableError =>
    new CacheUnreadableError(file, reason, `token cache ${file} is unreadable: ${why}`);

  if (data.length === 0) {
    throw fail('empty', 'the file is empty (probably left by an interrupted write or a full disk)');
  }
  const magicPart = data.subarray(0, Math.min(data.length, MAGIC.length));
  if (!magicPart.equals(MAGIC.subarray(0, magicPart.length))) {
    throw fail('not-a-cache', 'it is not a graph-device-agent token cache (no "GDAC" header); was another file put at this path?');
  }
  if (data.length < MAGIC.length + 2) {
    throw fail('truncated', `the file is only ${data.length} bytes long (cut off while being written or copied)`);
  }
  const version = data[MAGIC.length];
  const cipherId = data[MAGIC.length + 1];
  if (version !== FORMAT_VERSION) {
    throw fail('unknown-version', `format version ${version} is not supported by this release (it reads version ${FORMAT_VERSION}); was it written by a newer graph-device-agent?`);
  }
  if (cipherId !== CIPHER_AES_256_GCM) {
    throw fail('unknown-cipher', `cipher id ${cipherId} is not supported (this release knows 1 = AES-256-GCM); was it written by a newer graph-device-agent?`);
  }
  if (data.length < HEADER_BYTES + TAG_BYTES) {
    throw fail('truncated', `the file is only ${data.length} bytes long, shorter than a header and tag (cut off while being written or copied)`);
  }

  const head = data.subarray(0, HEADER_BYTES);
  const nonce = data.subarray(MAGIC.length + 2, HEADER_BYTES);
  const ciphertext = data.subarray(HEADER_BYTES, data.length - TAG_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(head, clientId));
  decipher.setAuthTag(tag);
  const unverified = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    const diagnosis = diagnoseAuthenticationFailure(unverified, clientId);
    unverified.fill(0);
    throw fail(diagnosis.reason, diagnosis.why);
  }
  const plaintext = unverified.toString('utf8');
  unverified.fill(0);
  try {
    JSON.parse(plaintext);
  } catch {
    throw fail('corrupt-content', 'it decrypts, but the content is not msal cache JSON');
  }
  return plaintext;
}

/**
 * GCM only says "not authentic". To tell the person *why* (the usual causes need different
 * fixes), look at what the ciphertext decrypts to before verification: GCM is counter mode, so
 * with the right key the text comes out right even when the associated data (the client id)
 * differs or the file was cut short. The unverified text is used only for this diagnosis, never
 * loaded, and zeroed afterwards; a forged file can at worst change the wording of the error.
 */
function diagnoseAuthenticationFailure(unverified: Buffer, clientId: string): { reason: CacheUnreadableReason; why: string } {
  const wrongKey = {
    reason: 'wrong-key-or-tampered' as const,
    why: 'it does not decrypt with the configured key: the key (key file or systemd credential) was replaced since it was written, or the file was modified',
  };
  const text = unverified.toString('utf8');
  if (!text.startsWith('{')) return wrongKey;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // V8 says "Unexpected end of JSON input" or "... in JSON at position N" with N at the very
    // end when the text stops early: a prefix of valid JSON, i.e. the file was cut off.
    const atPosition = err instanceof SyntaxError ? /at position (\d+)/.exec(err.message) : null;
    const endsEarly = err instanceof SyntaxError &&
      (/end of (JSON )?input/i.test(err.message) || Number(atPosition?.[1]) === text.length);
    if (endsEarly) {
      return { reason: 'truncated', why: 'the file ends early (cut off while being written or copied)' };
    }
    return wrongKey;
  }
  const others = [...clientIdsIn(parsed)].filter((id) => id !== clientId);
  if (others.length > 0 && !clientIdsIn(parsed).has(clientId)) {
    const shown = others.filter((id) => /^[0-9A-Za-z-]{1,64}$/.test(id)).slice(0, 1)[0] ?? 'another id';
    return {
      reason: 'wrong-client',
      why: `it was written for client id ${shown}, but the configured client id is ${clientId} (was "clientId" changed in the configuration?)`,
    };
  }
  return wrongKey;
}

/** The `client_id` values of msal's cache entities (two levels: section → entry → field). */
function clientIdsIn(cache: unknown): Set<string> {
  const ids = new Set<string>();
  if (typeof cache !== 'object' || cache === null) return ids;
  for (const section of Object.values(cache)) {
    if (typeof section !== 'object' || section === null) continue;
    for (const entry of Object.values(section)) {
      if (typeof entry === 'object' && entry !== null && 'client_id' in entry && typeof entry.client_id === 'string') {
        ids.add(entry.client_id);
      }
    }
  }
  return ids;
}
