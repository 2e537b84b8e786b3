/** Why a token cache file could not be turned back into msal's cache JSON. */
export type CacheUnreadableReason =
  /** Zero bytes: a crash between create and write on a file system without our atomic rename. */
  | 'empty'
  /** Shorter than a header plus tag, or the ciphertext ends early. */
  | 'truncated'
  /** Not our magic: some other file was put at the cache path. */
  | 'not-a-cache'
  /** A format version this build does not know (written by a newer release?). */
  | 'unknown-version'
  /** A cipher id this build does not know. */
  | 'unknown-cipher'
  /** Decrypts with our key, but was written for another application (client id). */
  | 'wrong-client'
  /** Authentication failed: another key, or bytes changed on disk. */
  | 'wrong-key-or-tampered'
  /** Authentic, but the plaintext is not JSON (a bug in whoever wrote it). */
  | 'corrupt-content'
  /** The file exists but reading it failed (permissions, I/O error). */
  | 'io-error';

/**
 * A cache file that exists but cannot be used. The message names the file and the likely cause,
 * in words meant for the person reading the journal.
 */
export class CacheUnreadableError extends Error {
  constructor(
    readonly file: string,
    readonly reason: CacheUnreadableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CacheUnreadableError';
  }
}

/** Why a key file was refused. */
export type KeyFileProblem = 'missing' | 'permissions' | 'format' | 'unreadable' | 'exists';

/** A key file that cannot be used; the message says how to fix it (for a config error, exit 78). */
export class KeyFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: KeyFileProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KeyFileError';
  }
}
