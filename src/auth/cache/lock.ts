import { mkdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../log.js';
import { backoffMs, type Backoff } from '../../retry/backoff.js';

/**
 * The inter-process lock around a read-modify-write of the token cache, so that `login`, `logout`
 * and `rekey` (run over SSH) and the running daemon do not lose each other's updates.
 *
 * It is proper-lockfile's: `mkdir <cache>.lock` (atomic on every local file system), kept fresh
 * by its holder (the mtime is touched every `staleMs / 2`), and broken by the next process once
 * it has not been touched for `staleMs`: a holder that was SIGKILLed or lost power blocks the
 * others for at most that long. What this file adds is the waiting policy (wait only while
 * another process holds it; fail at once on EACCES/EROFS), a lock "from the future" (a Pi without
 * a real-time clock boots with an earlier time than the lock's mtime), and logging instead of
 * proper-lockfile's default of throwing from a timer when the lock was taken away.
 */

export interface CacheLockOptions {
  /** A lock untouched for this long is from a dead process and is broken. At least 2000 (proper-lockfile's floor). */
  staleMs?: number;
  /** How long to wait for a lock another process holds. By default twice `staleMs`, so a dead holder's lock is always broken in time. */
  waitMs?: number;
}

export const DEFAULT_LOCK_STALE_MS = 10_000;
/** proper-lockfile raises smaller values to this. */
const MIN_STALE_MS = 2_000;

/** Waits for a held lock: 25 ms doubling to 200 ms, spread around each value so waiters do not collide again. */
const LOCK_RETRY: Backoff = { baseMs: 25, maxMs: 200, jitter: 'around' };

/** The lock could not be taken (held for too long, or the folder refuses it). */
export class CacheLockError extends Error {
  constructor(readonly lockPath: string, readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheLockError';
  }
}

export type LockState = 'none' | 'held' | 'stale';

export function lockPathFor(cachePath: string): string {
  return `${path.resolve(cachePath)}.lock`;
}

export class CacheLock {
  readonly path: string;
  private readonly target: string;
  private readonly staleMs: number;
  private readonly waitMs: number;
  private readonly log: Logger;

  constructor(cachePath: string, logger: Logger, options: CacheLockOptions = {}) {
    this.target = path.resolve(cachePath);
    this.path = lockPathFor(cachePath);
    this.staleMs = Math.max(options.staleMs ?? DEFAULT_LOCK_STALE_MS, MIN_STALE_MS);
    this.waitMs = options.waitMs ?? this.staleMs * 2;
    this.log = logger;
  }

  /** Takes the lock, waiting while another process holds it. Resolves to the function that releases it. */
  async acquire(): Promise<() => Promise<void>> {
    await mkdir(path.dirname(this.target), { recursive: true, mode: 0o700 }).catch(() => undefined);
    const started = Date.now();
    let waitingLogged = false;
    for (let attempt = 0; ; attempt += 1) {
      await this.breakIfAbandoned();
      let release: () => Promise<void>;
      try {
        // Loaded on the first cache write, after the first frame: start-up stays fast.
        const { lock: lockFile } = await import('proper-lockfile');
        release = await lockFile(this.target, {
          realpath: false,
          lockfilePath: this.path,
          stale: this.staleMs,
          retries: 0,
          onCompromised: (err) => {
            // Another process found our lock older than staleMs (our event loop stalled that
            // long) and broke it. The write itself is still atomic; at worst an update is lost.
            this.log.error({ event: 'cache.lock_compromised', lock: this.path, error: err.message },
              `the token cache lock ${this.path} was taken over by another process while held (${err.message})`);
          },
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'UNKNOWN';
        if (code !== 'ELOCKED') {
          throw new CacheLockError(this.path, code, `cannot create the token cache lock ${this.path} (${code}): check that the service user owns the cache folder`, { cause: err });
        }
        const waited = Date.now() - started;
        if (waited >= this.waitMs) {
          throw new CacheLockError(this.path, 'ETIMEDOUT',
            `the token cache lock ${this.path} is still held by another process after ${Math.round(waited / 1000)} s`, { cause: err });
        }
        if (!waitingLogged) {
          waitingLogged = true;
          this.log.debug({ event: 'cache.lock_waiting', lock: this.path }, 'waiting for another process to release the token cache lock');
        }
        // Short waits: holders keep it for a few milliseconds (msal holds it only around the
        // in-memory update, never across a network call).
        await sleep(backoffMs(attempt, LOCK_RETRY));
        continue;
      }
      return async () => {
        try {
          await release();
        } catch (err) {
          // ERELEASED: compromised and already logged.
          this.log.debug({ event: 'cache.lock_release_failed', lock: this.path, error: (err as Error).message }, 'token cache lock was already released');
        }
      };
    }
  }

  /** Runs `task` with the lock held. */
  async with<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      await release();
    }
  }

  /** What is at the lock path, for `status`. */
  async state(): Promise<LockState> {
    return lockState(this.path, this.staleMs);
  }

  /**
   * A lock whose holder died is broken by proper-lockfile once its mtime is `staleMs` old; say so
   * in the log. A lock dated well in the future cannot be held by a live process on this machine
   * (it would have touched it with the current time): it was left before the clock was set back,
   * typically by a power cut on a board whose clock starts from the last saved time. proper-
   * lockfile would wait until the clock passes it, perhaps an hour: remove it now.
   */
  private async breakIfAbandoned(): Promise<void> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(this.path)).mtimeMs;
    } catch {
      return;
    }
    const now = Date.now();
    if (mtimeMs < now - this.staleMs) {
      this.log.warn({ event: 'cache.lock_stale', lock: this.path, age_s: Math.round((now - mtimeMs) / 1000) },
        `breaking the stale token cache lock ${this.path} left by a process that stopped without releasing it`);
      return; // proper-lockfile breaks it in lock()
    }
    if (mtimeMs > now + this.staleMs) {
      try {
        await rmdir(this.path);
        this.log.warn({ event: 'cache.lock_stale', lock: this.path, reason: 'clock' },
          `removed the token cache lock ${this.path}: it is dated in the future (left before the clock was set back)`);
      } catch {
        // Someone else removed or took it meanwhile: lock() decides.
      }
    }
  }
}

export async function lockState(lockPath: string, staleMs = DEFAULT_LOCK_STALE_MS): Promise<LockState> {
  try {
    const { mtimeMs } = await stat(lockPath);
    const now = Date.now();
    return mtimeMs < now - Math.max(staleMs, MIN_STALE_MS) || mtimeMs > now + Math.max(staleMs, MIN_STALE_MS) ? 'stale' : 'held';
  } catch {
    return 'none';
  }
}
