import { constants } from 'node:fs';
import { link, lstat, open, readdir, readlink, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { Logger } from '../../log.js';
import { removeStaleTempFiles, writeFileAtomic, fsyncDir } from '../../files/atomic-write.js';
import { CacheNotOursError, CacheUnreadableError, NOT_OURS_FIX, type CacheUnreadableReason } from './errors.js';
import { decodeCache, encodeCache, KEY_BYTES, looksLikeOurCache, MAGIC } from './format.js';
import { CacheLock, type CacheLockOptions, type LockState } from './lock.js';

/**
 * msal-node's cache plugin for ONE encrypted file (see format.ts for the layout).
 *
 * - msal calls `beforeCacheAccess` on every token request, so it is one `stat` when nothing
 *   changed; the file is read and decrypted only when it changed (size, mtime, ctime, inode).
 *   The file is the truth: what it holds replaces msal's in-memory cache (not merged into it),
 *   so a logout by another process, or a moved-aside file, really drops the tokens.
 * - A file that cannot be used (another key, another client id, damaged, a newer format) is
 *   moved aside as `<name>.unreadable-<UTC timestamp>` (newest 3 kept) with one error line, and
 *   the agent continues with an empty cache: the person signs in again instead of the device
 *   sitting in a crash loop. A cache that could not be read is never overwritten in place.
 * - Only a file that is recognisably ours (our header, or a write of ours torn short), a regular
 *   file of the running user's, is ever moved aside. Anything else at the path (someone's file,
 *   a symbolic link, a FIFO, a directory) is not a token cache of this agent: it is never read,
 *   moved or replaced, is logged once (`cache.not_ours`) and reported through `onNotOurs`; the
 *   daemon stops on it with a configuration error (exit 78), as the start-up check does. Until
 *   then the tokens in memory are kept, and nothing is written.
 * - Writes are atomic and durable (files/atomic-write.ts) and happen only when msal changed the cache.
 * - A failed write is logged and retried on the next access; it does not fail the sign-in that
 *   produced the tokens (they stay in memory).
 * - Other processes (`login`, `logout`, `rekey` next to the running daemon) share the file through
 *   an inter-process lock (lock.ts). msal tells the plugin up front which accesses change the
 *   cache: it builds the TokenCacheContext with `cacheHasChanged` = true for a write (saving a
 *   token reply, removeAccount) and false for a read, and calls `afterCacheAccess` in a `finally`.
 *   So a write takes the lock in `beforeCacheAccess`, reads the file under it (msal then applies its
 *   change to what is on disk now, not to what it read earlier) and releases it in
 *   `afterCacheAccess` once the file is written: a read-modify-write no one can slip into. msal
 *   holds it only around its in-memory update (the network call comes before), i.e. milliseconds.
 *   Reads take no lock (the file is replaced by an atomic rename, so it is never seen half
 *   written); only moving an unreadable file aside does, so a file that was just replaced by a
 *   good one is never moved instead.
 */

export interface EncryptedFileCacheOptions {
  path: string;
  /** The 32-byte key, loaded once (key.ts). */
  key: Buffer;
  /** The app registration's client id; bound into every file. */
  clientId: string;
  logger: Logger;
  /** Clock for the moved-aside file names. */
  now?: () => Date;
  /**
   * The inter-process lock at `<path>.lock`; `false` turns it off (only for tests of something
   * else, e.g. the SIGKILL test, where every kill would leave a lock to wait out).
   */
  lock?: CacheLockOptions | false;
  /**
   * Called once for each file found at the path that is not a token cache of this agent (see
   * CacheNotOursError): the daemon turns it into a configuration error and stops.
   */
  onNotOurs?: (problem: CacheNotOursError) => void;
}

export interface CacheStatus {
  path: string;
  exists: boolean;
  bytes: number;
  modifiedAt: Date | null;
  /** Decrypts with the configured key and client id; false when absent. */
  readable: boolean;
  /** Why it is not readable, when it exists but is not. */
  unreadableReason?: CacheUnreadableReason;
  unreadableMessage?: string;
  /** Files moved aside earlier, newest first. */
  movedAside: string[];
  /** Permission bits of the file (e.g. 0o600); null when absent or not stat-able. */
  mode: number | null;
  /** The inter-process lock: none, held by a live process, or left by a dead one. */
  lock: LockState;
}

/** msal's serialization of a cache with nothing in it. */
const EMPTY_CACHE = JSON.stringify({ Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: {}, AppMetadata: {} });

/** How many moved-aside files are kept; older ones are deleted. */
export const KEEP_UNREADABLE = 3;

interface FileIdentity {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** Owner: only a file of the running user's is ever moved aside. */
  uid: number;
}

/** open/fstat refusals that say the path holds no regular file of a cache's size (see checkRegular). */
const NOT_A_CACHE_CODES = new Set(['ELOOP', 'ENOTREGULAR', 'EFBIG', 'ENXIO']);

/** A token cache is a few kilobytes; a file larger than this is not one, and is never read whole. */
export const MAX_CACHE_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Opened without following a symbolic link (a planted link must not make the agent read, move or
 * replace another file), without blocking (a FIFO), and refused unless a regular file.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** One msal write access, from beforeCacheAccess to afterCacheAccess. */
interface WriteSection {
  /** beforeCacheAccess completed: msal holds the file's content. */
  delivered: boolean;
  /** Releases the file lock; undefined when it is not held. */
  release: (() => Promise<void>) | undefined;
  /** Releases the lock and lets this instance's next write in. */
  close(): Promise<void>;
}

/** What this plugin last saw at the cache path. */
type Known =
  | { kind: 'nothing-yet' }
  | { kind: 'absent' }
  | { kind: 'file'; id: FileIdentity }
  /** Unreadable and could not be moved aside: must not be overwritten. */
  | { kind: 'stuck'; id: FileIdentity }
  /** Not a token cache of this agent (someone's file, a link, a FIFO...): never read again, moved or overwritten. */
  | { kind: 'not-ours'; id: FileIdentity }
  /** stat/open failed (permissions...): logged once per error code, never overwritten. */
  | { kind: 'io-error'; code: string };

export class EncryptedFileCache implements ICachePlugin {
  readonly path: string;
  private readonly key: Buffer;
  private readonly clientId: string;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly onNotOurs: ((problem: CacheNotOursError) => void) | undefined;

  private known: Known = { kind: 'nothing-yet' };
  /** The newest cache JSON this process knows (read or written); undefined until there is one. */
  private latest: string | undefined;
  /** Bumped whenever `latest` changes. */
  private generation = 0;
  /** Which generation each msal TokenCache holds, so an unchanged one is not deserialized again. */
  private readonly delivered = new WeakMap<object, number>();
  /** `latest` is not on disk yet (the last write failed or was refused). */
  private pendingWrite = false;
  /** before/after run one at a time: concurrent token requests must not interleave a write. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lock: CacheLock | undefined;
  /** > 0 while this instance holds the file lock (so work done under it does not take it again). */
  private lockDepth = 0;
  /** Write sections of this instance, one at a time: the file lock is not re-entrant. */
  private sectionTail: Promise<void> = Promise.resolve();
  /** The open write section of each msal access (before → after). */
  private readonly sections = new WeakMap<TokenCacheContext, WriteSection>();
  /** The last lock problem logged, so a folder that refuses the lock is not logged on every access. */
  private lockProblem: string | undefined;
  private loads = 0;

  /**
   * How many times this instance has read a cache file that it did not write itself (the first
   * read included): it grows when another process (`graph-device-agent login`) writes the file.
   * Compare two readings to tell whether someone else signed in in between.
   */
  get filesReadFromOthers(): number {
    return this.loads;
  }

  constructor(options: EncryptedFileCacheOptions) {
    if (options.key.length !== KEY_BYTES) throw new RangeError(`the token cache key must be ${KEY_BYTES} bytes, got ${options.key.length}`);
    this.path = path.resolve(options.path);
    this.key = Buffer.from(options.key);
    this.clientId = options.clientId;
    this.log = options.logger;
    this.now = options.now ?? (() => new Date());
    this.onNotOurs = options.onNotOurs;
    this.lock = options.lock === false ? undefined : new CacheLock(this.path, this.log, options.lock ?? {});
  }

  async beforeCacheAccess(ctx: TokenCacheContext): Promise<void> {
    // A write: lock first, then read, so msal's change lands on the newest file.
    const section = ctx.cacheHasChanged ? await this.openSection(ctx) : undefined;
    await this.exclusive(async () => {
      // Taken inside the queue, so this instance's own queued work (which may take the lock
      // for a moment itself) never waits on it.
      if (section) section.release = await this.takeLock();
      await this.refresh();
      this.deliver(ctx.tokenCache);
    });
    if (section) section.delivered = true;
  }

  async afterCacheAccess(ctx: TokenCacheContext): Promise<void> {
    const section = this.sections.get(ctx);
    this.sections.delete(ctx);
    try {
      // beforeCacheAccess failed for this write: msal changed nothing, and its memory is not the
      // file's content; writing it could undo another process's update.
      if (section && !section.delivered) return;
      if (!ctx.cacheHasChanged && !this.pendingWrite) return;
      await this.exclusive(async () => {
        if (ctx.cacheHasChanged) {
          this.latest = ctx.tokenCache.serialize();
          this.generation += 1;
          this.delivered.set(ctx.tokenCache, this.generation);
          this.pendingWrite = true;
        }
        if (this.latest === undefined || !this.pendingWrite) return;
        const persist = async (): Promise<void> => {
          if (this.latest === undefined || !this.pendingWrite) return;
          if (!(await this.safeToReplace())) return;
          await this.write(this.latest);
        };
        // Without a section (a retry of a failed write, or a caller that skipped before):
        // lock just for the write.
        await (section ? persist() : this.underLock(persist));
      });
    } finally {
      await section?.close();
    }
  }

  /** For the `status` command: what is on disk, without changing anything. */
  async status(): Promise<CacheStatus> {
    const movedAside = (await this.listMovedAside()).map((name) => path.join(path.dirname(this.path), name));
    const lock = this.lock ? await this.lock.state() : 'none';
    let data: Buffer;
    let modifiedAt: Date;
    let mode: number;
    try {
      const handle = await open(this.path, OPEN_FLAGS);
      try {
        const st = await handle.stat();
        checkRegular(st);
        modifiedAt = st.mtime;
        mode = st.mode & 0o7777;
        data = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (isAbsent(err)) return { path: this.path, exists: false, bytes: 0, modifiedAt: null, mode: null, readable: false, movedAside, lock };
      // Unreadable for us (EACCES): stat still tells its size, age and mode.
      const st = await stat(this.path).catch(() => null);
      return {
        path: this.path, exists: true, bytes: st?.size ?? 0, modifiedAt: st?.mtime ?? null, mode: st ? st.mode & 0o7777 : null,
        readable: false, movedAside, lock,
        unreadableReason: 'io-error', unreadableMessage: `token cache ${this.path} cannot be read (${code ?? String(err)})`,
      };
    }
    const result: CacheStatus = { path: this.path, exists: true, bytes: data.length, modifiedAt, mode, readable: true, movedAside, lock };
    try {
      decodeCache(data, this.key, this.clientId, this.path);
    } catch (err) {
      if (!(err instanceof CacheUnreadableError)) throw err;
      return { ...result, readable: false, unreadableReason: err.reason, unreadableMessage: err.message };
    }
    return result;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Brings `latest` up to date with the file, reading it only when it changed. */
  private async refresh(): Promise<void> {
    let id: FileIdentity | null;
    try {
      id = await identityOf(this.path);
    } catch (err) {
      this.ioError(err);
      return;
    }
    if (id === null) {
      // The file went away under us (e.g. `logout` in another process): so do its tokens.
      if (this.known.kind === 'file' || this.known.kind === 'stuck') this.adopt(EMPTY_CACHE);
      this.known = { kind: 'absent' };
      return;
    }
    if ((this.known.kind === 'file' || this.known.kind === 'stuck' || this.known.kind === 'not-ours') && sameFile(this.known.id, id)) return;
    await this.load();
  }

  private async load(): Promise<void> {
    let read: { data: Buffer; id: FileIdentity } | null;
    try {
      read = await readWithIdentity(this.path);
    } catch (err) {
      await this.readFailed(err);
      return;
    }
    if (read === null) {
      this.known = { kind: 'absent' };
      return;
    }
    let problem: CacheUnreadableError;
    try {
      const plaintext = decodeCache(read.data, this.key, this.clientId, this.path);
      this.known = { kind: 'file', id: read.id };
      this.loads += 1;
      this.adopt(plaintext);
      return;
    } catch (err) {
      if (!(err instanceof CacheUnreadableError)) throw err;
      problem = err;
    }
    const unreadable = read.id;
    await this.underLock(async () => {
      // Another process may have replaced the file (with a good one) since it was read: move
      // aside only the file that was found unreadable.
      const current = await identityOf(this.path).catch(() => undefined);
      if (current !== undefined && (current === null || !sameFile(current, unreadable))) {
        await this.load();
        return;
      }
      const outcome = await this.moveAside(problem, unreadable, read.data);
      // Not ours: reported, and the tokens in memory are kept until the daemon stops on it.
      if (outcome === 'not-ours') return;
      // Either way the tokens in it are not usable: continue empty, a new sign-in follows.
      this.adopt(EMPTY_CACHE);
      // If the move half-happened (linked, not unlinked) the inode's ctime changed: remember
      // the file as it is now, so the next access does not try (and log) again.
      this.known = outcome === 'moved' ? { kind: 'absent' } : { kind: 'stuck', id: (await identityOf(this.path).catch(() => null)) ?? unreadable };
    });
  }

  /**
   * Opens the write section of one msal access: this instance's other writes wait here, outside
   * the queue (the file lock is not re-entrant, and the open section's afterCacheAccess needs the
   * queue to finish). The caller then takes the file lock. A lock that cannot be had is logged and
   * the write goes ahead without it, as it did before there was a lock: failing the sign-in the
   * person just approved would be worse than the small chance of a lost update.
   */
  private async openSection(ctx: TokenCacheContext): Promise<WriteSection> {
    let leave!: () => void;
    const previous = this.sectionTail;
    this.sectionTail = new Promise<void>((resolve) => (leave = resolve));
    await previous;
    const section: WriteSection = {
      delivered: false,
      release: undefined,
      close: async () => {
        try {
          await section.release?.();
        } finally {
          leave();
        }
      },
    };
    this.sections.set(ctx, section);
    return section;
  }

  /** Runs `task` holding the file lock (taking it unless this instance already holds it). */
  private async underLock(task: () => Promise<void>): Promise<void> {
    if (this.lockDepth > 0) return task();
    const release = await this.takeLock();
    try {
      await task();
    } finally {
      await release?.();
    }
  }

  /** The file lock, or undefined (logged) when there is none or it cannot be had. */
  private async takeLock(): Promise<(() => Promise<void>) | undefined> {
    if (!this.lock) return undefined;
    let release: () => Promise<void>;
    try {
      release = await this.lock.acquire();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (this.lockProblem !== code) {
        this.lockProblem = code;
        // A folder that refuses the lock directory refuses the cache's temp file too, and that
        // failure is logged with its fix; only a lock held for too long is news of its own.
        const level = code === 'ETIMEDOUT' ? 'error' : 'debug';
        this.log[level]({ event: 'cache.lock_failed', lock: this.lock.path, code },
          `${(err as Error).message}; going ahead without the lock`);
      }
      return undefined;
    }
    this.lockProblem = undefined;
    this.lockDepth += 1;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.lockDepth -= 1;
      await release();
    };
  }

  /**
   * Before replacing the file: if it is not the one we last read or wrote, someone else wrote
   * it. Read it first, so a file we could not read is moved aside instead of overwritten.
   */
  private async safeToReplace(): Promise<boolean> {
    let read: { data: Buffer; id: FileIdentity } | null;
    try {
      const id = await identityOf(this.path);
      if (id === null) return true;
      if (this.known.kind === 'file' && sameFile(this.known.id, id)) return true;
      if (this.known.kind === 'stuck' && sameFile(this.known.id, id)) {
        this.log.debug({ event: 'cache.write_refused', file: this.path }, 'not replacing the unreadable token cache that could not be moved aside');
        return false;
      }
      if (this.known.kind === 'not-ours' && sameFile(this.known.id, id)) {
        this.log.debug({ event: 'cache.write_refused', file: this.path }, 'not replacing a file that is not a token cache of this agent');
        return false;
      }
      read = await readWithIdentity(this.path);
    } catch (err) {
      await this.readFailed(err);
      return false;
    }
    if (read === null) return true;
    try {
      decodeCache(read.data, this.key, this.clientId, this.path);
    } catch (err) {
      if (!(err instanceof CacheUnreadableError)) throw err;
      const outcome = await this.moveAside(err, read.id, read.data);
      if (outcome === 'kept') this.known = { kind: 'stuck', id: (await identityOf(this.path).catch(() => null)) ?? read.id };
      return outcome === 'moved';
    }
    // Another process (a `login` next to the running service?) wrote a valid cache since we
    // read it. Without a lock the newer state wins: ours, which msal just produced.
    this.log.warn({ event: 'cache.replaced_concurrent_write', file: this.path },
      'the token cache was changed by another process since it was read; replacing it with this process\'s state');
    return true;
  }

  private async write(plaintext: string): Promise<void> {
    const data = encodeCache(plaintext, this.key, this.clientId);
    try {
      await writeFileAtomic(this.path, data, { mode: 0o600, dirMode: 0o700, keepOwner: true });
      const id = await identityOf(this.path);
      this.known = id ? { kind: 'file', id } : { kind: 'absent' };
      this.pendingWrite = false;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.log.error({ event: 'cache.write_failed', file: this.path, code },
        `could not write token cache ${this.path} (${code ?? String(err)}): the sign-in is kept in memory only; retrying on the next token request`);
      return;
    }
    this.log.debug({ event: 'cache.written', file: this.path, bytes: data.length }, 'token cache written');
    const removed = await removeStaleTempFiles(this.path).catch(() => []);
    if (removed.length > 0) {
      this.log.info({ event: 'cache.temp_removed', file: this.path, count: removed.length }, 'removed temp files of interrupted cache writes');
    }
  }

  /**
   * Moves an unreadable cache out of the way (never deleting or overwriting it: it may hold the
   * only copy of a refresh token, readable again with the old key) and logs ONE error line.
   * Returns 'kept' when it could not be moved, 'not-ours' (reported, untouched) when it is not ours
   * to move.
   */
  private async moveAside(problem: CacheUnreadableError, id: FileIdentity, data: Buffer): Promise<'moved' | 'kept' | 'not-ours'> {
    const base = path.basename(this.path);
    const dir = path.dirname(this.path);
    const notOurs = await this.whyNotOurs(id, data);
    if (notOurs !== undefined) {
      this.notOurs(notOurs, id, { reason: problem.reason });
      return 'not-ours';
    }
    const stamp = utcStamp(this.now());
    let movedTo: string | undefined;
    let moveError: unknown;
    for (let n = 0; n < 100 && movedTo === undefined; n += 1) {
      const candidate = path.join(dir, `${base}.unreadable-${stamp}${n === 0 ? '' : `-${n}`}`);
      try {
        // link + unlink instead of rename: rename would silently replace an older moved-aside
        // file with the same name.
        await link(this.path, candidate);
        movedTo = candidate;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        moveError = err;
        break;
      }
    }
    if (movedTo !== undefined) {
      try {
        await unlink(this.path);
        await fsyncDir(dir);
      } catch (err) {
        moveError = err;
      }
    }
    const fields = { event: 'cache.unreadable', file: this.path, reason: problem.reason, bytes: id.size };
    if (movedTo !== undefined && moveError === undefined) {
      this.log.error({ ...fields, movedTo }, `${problem.message}. Moved it to ${movedTo} and continuing with an empty cache: sign in again`);
      await this.pruneMovedAside();
      return 'moved';
    }
    const code = (moveError as NodeJS.ErrnoException | undefined)?.code;
    this.log.error({ ...fields, moveError: code ?? String(moveError) },
      `${problem.message}. Could not move it aside (${code ?? String(moveError)}), so it will not be overwritten: tokens stay in memory only until it is removed`);
    return 'kept';
  }

  /** Names of moved-aside files, newest first. */
  private async listMovedAside(): Promise<string[]> {
    const prefix = `${path.basename(this.path)}.unreadable-`;
    let names: string[];
    try {
      names = await readdir(path.dirname(this.path));
    } catch {
      return [];
    }
    return names
      .filter((name) => name.startsWith(prefix))
      .map((name) => ({ name, key: sortKey(name.slice(prefix.length)) }))
      .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
      .map((entry) => entry.name);
  }

  private async pruneMovedAside(): Promise<void> {
    const old = (await this.listMovedAside()).slice(KEEP_UNREADABLE);
    for (const name of old) {
      await unlink(path.join(path.dirname(this.path), name)).catch(() => undefined);
    }
    if (old.length > 0) {
      this.log.info({ event: 'cache.unreadable_pruned', file: this.path, removed: old }, `deleted ${old.length} old unreadable token cache file(s), keeping the newest ${KEEP_UNREADABLE}`);
    }
  }

  /**
   * Opening or reading the file failed. A symbolic link, a FIFO, a directory, a device or a file
   * too large for a cache is not a token cache of this agent; anything else (EACCES, EIO) is an
   * I/O error, logged once.
   */
  private async readFailed(err: unknown): Promise<void> {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!NOT_A_CACHE_CODES.has(code)) {
      this.ioError(err);
      return;
    }
    const id = await identityOf(this.path).catch(() => null);
    if (id === null) {
      this.known = { kind: 'nothing-yet' }; // gone meanwhile: the next access looks again
      return;
    }
    const target = code === 'ELOOP' ? await readlink(this.path).catch(() => undefined) : undefined;
    const what = code === 'ELOOP' ? `is a symbolic link${target === undefined ? '' : ` to ${target}`} (the cache is never read or replaced through one)`
      : code === 'ENOTREGULAR' ? `is ${(err as Error).message}, not a file`
      : code === 'EFBIG' ? `is larger than ${MAX_CACHE_FILE_BYTES / 1024 / 1024} MiB`
      : 'is a socket or a device with nothing behind it, not a file';
    this.notOurs(what, id, { reason: 'io-error', code });
  }

  /**
   * What is at the path is not a token cache of this agent: logged once for this file (never
   * read, moved or overwritten; the tokens in memory are kept) and reported to `onNotOurs`.
   */
  private notOurs(what: string, id: FileIdentity, fields: { reason: CacheUnreadableReason; code?: string }): void {
    this.known = { kind: 'not-ours', id };
    const problem = new CacheNotOursError(this.path, what);
    this.log.error({ event: 'cache.not_ours', file: this.path, reason: fields.reason, code: fields.code, bytes: id.size },
      `cache.path: ${problem.message}; it is left untouched and not overwritten: ${NOT_OURS_FIX}`);
    this.onNotOurs?.(problem);
  }

  private ioError(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (this.known.kind === 'io-error' && this.known.code === code) return;
    this.known = { kind: 'io-error', code };
    this.log.error({ event: 'cache.unreadable', file: this.path, reason: 'io-error', code },
      `token cache ${this.path} cannot be read (${code}): check cache.path, and that the service user owns the file and its folder; continuing with tokens in memory only, the file is not overwritten`);
  }

  /**
   * Why the file at the cache path must not be moved aside, or undefined when it is ours to move:
   * it starts with our header (or is a write of ours torn short), is a regular file (not a link)
   * and belongs to the running user (root may move the file of the folder's owner: `sudo ...
   * login` next to the service).
   */
  private async whyNotOurs(id: FileIdentity, data: Buffer): Promise<string | undefined> {
    if (!looksLikeOurCache(data)) return `does not start with the cache header ("${MAGIC.toString('latin1')}")`;
    const st = await lstat(this.path).catch(() => null);
    if (st === null || !st.isFile()) return st === null ? 'is gone' : 'is not a regular file';
    const me = process.geteuid?.();
    if (me === undefined || id.uid === me) return undefined;
    if (me === 0) {
      const folderOwner = (await stat(path.dirname(this.path)).catch(() => null))?.uid;
      if (folderOwner === id.uid) return undefined;
    }
    return `belongs to uid ${id.uid}, not to the user running the agent (uid ${me})`;
  }

  private adopt(plaintext: string): void {
    this.latest = plaintext;
    this.generation += 1;
    this.pendingWrite = false;
  }

  /**
   * Always hands the cache over, even when msal already saw this generation: acquireTokenSilent
   * clears msal's store and rebuilds it from what the plugin deserializes (overwriteCache), so a
   * skipped deserialize would leave it empty. Deserializing is cheap; reading and decrypting the
   * file (skipped when it did not change) is what costs.
   */
  private deliver(tokenCache: TokenCacheContext['tokenCache']): void {
    if (this.latest === undefined) return;
    replaceContent(tokenCache, this.latest);
    this.delivered.set(tokenCache, this.generation);
  }
}

/**
 * Makes msal's in-memory cache hold exactly `json`. msal-node's `TokenCache.deserialize()`
 * MERGES into what it already holds (NodeStorage spreads the old key-value store first), so
 * after a logout in another process or a moved-aside file the old tokens would stay in memory,
 * and the next write would bring them back. The file is the truth: empty the store first
 * (`getKVStore()` is public and returns the live store).
 */
function replaceContent(tokenCache: TokenCacheContext['tokenCache'], json: string): void {
  const store = (tokenCache as { getKVStore?: () => unknown }).getKVStore?.();
  if (typeof store === 'object' && store !== null) {
    // Only the token cache's own entries: msal keeps its discovery results, throttling and
    // telemetry in the same store, and they are not in the file.
    for (const name of Object.keys(store)) {
      if (name.startsWith('authority-metadata') || name.startsWith('throttling') || name.startsWith('server-telemetry')) continue;
      delete (store as Record<string, unknown>)[name];
    }
  }
  tokenCache.deserialize(json);
}

/** ENOTDIR: a path component is a file, so the cache cannot exist there either. */
function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function identityOf(file: string): Promise<FileIdentity | null> {
  try {
    // lstat: a link put in the file's place is a change, read (and refused) as such.
    return identity(await lstat(file));
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
}

/** Reads the file and its identity through one descriptor, so they describe the same file. */
async function readWithIdentity(file: string): Promise<{ data: Buffer; id: FileIdentity } | null> {
  let handle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
  try {
    const st = await handle.stat();
    checkRegular(st);
    const id = identity(st);
    return { data: await handle.readFile(), id };
  } finally {
    await handle.close();
  }
}

function identity(st: { size: number; mtimeMs: number; ctimeMs: number; ino: number; uid: number }): FileIdentity {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, uid: st.uid };
}

/** Throws (as an I/O error, code ENOTREGULAR or EFBIG) unless `st` is a regular file of a cache's size. */
function checkRegular(st: import('node:fs').Stats): void {
  if (!st.isFile()) {
    const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
    throw Object.assign(new Error(what), { code: 'ENOTREGULAR' });
  }
  if (st.size > MAX_CACHE_FILE_BYTES) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/** `20250314T091500Z`: sortable, and without ':' (awkward in shells and on FAT). */
export function utcStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Orders `<stamp>` and `<stamp>-<n>` by time, then n. */
function sortKey(suffix: string): string {
  const match = /^(\d{8}T\d{6}Z)(?:-(\d+))?$/.exec(suffix);
  if (!match) return `0${suffix}`;
  return `1${match[1]}${(match[2] ?? '0').padStart(4, '0')}`;
}
