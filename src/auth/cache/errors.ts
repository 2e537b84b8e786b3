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

/** What to do about a file at cache.path that is not a token cache of this agent. */
export const NOT_OURS_FIX = 'move that file away or point cache.path elsewhere, then start the agent';

/**
 * What is at the cache path is not a token cache of this agent: a file without our header, a
 * file of another user, or no regular file at all (a symbolic link, a FIFO, a directory). The
 * cache never reads, moves or replaces it; the daemon treats it as a configuration error
 * (cache.path), as the start-up check does. `what` says what is there, for a person:
 * "is a symbolic link to /dev/null", "does not start with the cache header".
 */
export class CacheNotOursError extends Error {
  constructor(readonly file: string, readonly what: string) {
    super(`${file} ${what}, so it is not a token cache of this agent`);
    this.name = 'CacheNotOursError';
  }
}
