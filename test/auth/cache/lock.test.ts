import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { PublicClientApplication, TokenCacheContext, type ISerializableTokenCache } from '@azure/msal-node';
import { EncryptedFileCache } from '../../../src/auth/cache/encrypted-file-cache.js';
import { CacheLock } from '../../../src/auth/cache/lock.js';
import { decodeCache } from '../../../src/auth/cache/format.js';
import { CLIENT_ID, accountEntry, accountNames, captureLog, withTempDir } from './helpers.js';
import { typescriptNodeFlags } from '../../support/ts-loader/index.js';

/**
 * The inter-process lock: two processes writing the same cache through the real plugin and
 * msal's TokenCache lose none of each other's updates; a lock left by a killed process is broken
 * once stale; a live holder's lock is not; reads never wait for it.
 */

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lock-writer.ts');
const STALE_MS = 2_000; // proper-lockfile's minimum

interface Child {
  child: ChildProcess;
  /** Resolves when the child printed `line`. */
  printed(line: string): Promise<void>;
  send(line: string): void;
  stderr(): string;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
}

function startWriter(file: string, key: Buffer, args: string[]): Child {
  const child = spawn(process.execPath, [...typescriptNodeFlags(), WRITER, file, ...args], {
    env: { ...process.env, LOCK_KEY_HEX: key.toString('hex'), LOCK_CLIENT_ID: CLIENT_ID, LOCK_STALE_MS: String(STALE_MS) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of [...waiters]) {
      if (stdout.split('\n').includes(w.line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    exit,
    stderr: () => stderr,
    send: (line) => void child.stdin!.write(`${line}\n`),
    printed: (line) => Promise.race([
      stdout.split('\n').includes(line) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ line, resolve })),
      exit.then(([code, signal]) => { throw new Error(`writer exited (${code ?? signal}) before printing "${line}": ${stderr}`); }),
    ]),
  };
}

async function namesIn(file: string, key: Buffer): Promise<string[]> {
  return accountNames(decodeCache(await readFile(file), key, CLIENT_ID, file));
}

function plugin(file: string, key: Buffer, options: { waitMs?: number } = {}) {
  const log = captureLog();
  const cache = new EncryptedFileCache({ path: file, key, clientId: CLIENT_ID, logger: log.logger, lock: { staleMs: STALE_MS, ...options } });
  return { cache, log };
}

/** One write as msal makes it (ResponseHandler: context "changed", before, change, after in finally). */
async function msalWrite(cachePlugin: EncryptedFileCache, name: string): Promise<void> {
  const tokenCache = new PublicClientApplication({ auth: { clientId: CLIENT_ID }, cache: { cachePlugin } }).getTokenCache();
  const ctx = new TokenCacheContext(tokenCache, true);
  try {
    await cachePlugin.beforeCacheAccess(ctx);
    tokenCache.deserialize(accountEntry(name));
  } finally {
    await cachePlugin.afterCacheAccess(ctx);
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

test('two processes writing the same cache at once lose none of each other\'s updates', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const key = randomBytes(32);
    const count = 25;
    const writers = ['a', 'b'].map((id) => startWriter(file, key, [id, 'add', String(count)]));
    await Promise.all(writers.map((w) => w.printed('ready')));
    for (const w of writers) w.send('go');
    for (const w of writers) {
      const [code] = await w.exit;
      assert.equal(code, 0, w.stderr());
      assert.equal(w.stderr(), '', 'a writer logged a warning or error');
    }
    const expected = ['a', 'b'].flatMap((id) => Array.from({ length: count }, (_, n) => `${id}-${n}`)).sort();
    assert.deepEqual(await namesIn(file, key), expected);
    assert.equal(await exists(`${file}.lock`), false, 'the lock was left behind');
  });
});

test('a lock left by a SIGKILLed writer is broken once stale, and the next write lands', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const key = randomBytes(32);
    const holder = startWriter(file, key, ['dead', 'hold']);
    await holder.printed('holding');
    holder.child.kill('SIGKILL');
    const [, signal] = await holder.exit;
    assert.equal(signal, 'SIGKILL');
    assert.equal(await exists(`${file}.lock`), true, 'the killed writer left its lock');

    const { cache, log } = plugin(file, key);
    await msalWrite(cache, 'after');
    assert.deepEqual(await namesIn(file, key), ['after'], 'the killed write never reached the file; the next one did');
    assert.equal(await exists(`${file}.lock`), false);
    const broken = log.lines.find((l) => l.event === 'cache.lock_stale');
    assert.equal(broken?.level, 'warn', JSON.stringify(log.lines));
  });
});

test('a live holder keeps its lock past the stale time: the other writer waits for it, then both updates are there', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const key = randomBytes(32);
    const holder = startWriter(file, key, ['slow', 'hold']);
    await holder.printed('holding');

    const { cache, log } = plugin(file, key, { waitMs: 60_000 });
    let done = false;
    const writing = msalWrite(cache, 'waiting').then(() => void (done = true));
    // Well past the stale time: a holder that refreshes its lock must not lose it.
    await sleep(STALE_MS * 2);
    assert.equal(done, false, 'the write went ahead while another process held the lock');
    holder.send('release');
    await holder.printed('released');
    await writing;
    const [code] = await holder.exit;
    assert.equal(code, 0, holder.stderr());
    assert.equal(holder.stderr(), '', 'the holder\'s lock was compromised');
    assert.deepEqual(await namesIn(file, key), ['slow-held', 'waiting']);
    assert.equal(log.lines.some((l) => l.event === 'cache.lock_stale'), false);
  });
});

test('reads do not wait for the lock, and leave none behind', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const key = randomBytes(32);
    await msalWrite(plugin(file, key).cache, 'ada');
    const other = new CacheLock(file, captureLog().logger, { staleMs: STALE_MS });
    const release = await other.acquire();
    try {
      // waitMs is long: a read that took the lock would hang here and time the test out.
      const { cache } = plugin(file, key, { waitMs: 600_000 });
      const accounts = await new PublicClientApplication({ auth: { clientId: CLIENT_ID }, cache: { cachePlugin: cache } }).getTokenCache().getAllAccounts();
      assert.deepEqual(accounts.map((a) => a.name), ['ada']);
    } finally {
      await release();
    }
    assert.equal(await exists(`${file}.lock`), false);
  });
});

test('concurrent writes in one process take turns (no deadlock) and all land', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const key = randomBytes(32);
    const { cache, log } = plugin(file, key);
    const names = Array.from({ length: 8 }, (_, n) => `p${n}`);
    // Interleaved with reads, as the daemon's token requests are.
    const pca = new PublicClientApplication({ auth: { clientId: CLIENT_ID }, cache: { cachePlugin: cache } });
    await Promise.all([...names.map((n) => msalWrite(cache, n)), ...names.map(() => pca.getTokenCache().getAllAccounts())]);
    assert.deepEqual(await namesIn(file, key), names.sort());
    assert.equal(log.lines.filter((l) => l.level === 'error' || l.level === 'warn').length, 0, JSON.stringify(log.lines));
  });
});

test('a write whose beforeCacheAccess failed releases the lock in afterCacheAccess and writes nothing', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const key = randomBytes(32);
    const { cache } = plugin(file, key);
    await msalWrite(cache, 'kept');
    const broken: ISerializableTokenCache = {
      deserialize: () => { throw new Error('cannot take it'); },
      serialize: () => accountEntry('stale-memory'),
    };
    const ctx = new TokenCacheContext(broken, true);
    await assert.rejects(cache.beforeCacheAccess(ctx), /cannot take it/);
    await cache.afterCacheAccess(ctx); // msal calls it in a finally
    assert.equal(await exists(`${file}.lock`), false, 'the lock is still held');
    assert.deepEqual(await namesIn(file, key), ['kept'], 'the failed access wrote msal\'s stale memory');
    await msalWrite(cache, 'next'); // and the next write is not blocked
    assert.deepEqual(await namesIn(file, key), ['kept', 'next']);
  });
});

test('a lock dated in the future (left before the clock was set back) is removed instead of waited for', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const key = randomBytes(32);
    await mkdir(`${file}.lock`);
    const future = new Date(Date.now() + 3600_000);
    await utimes(`${file}.lock`, future, future);
    const { cache, log } = plugin(file, key, { waitMs: 600_000 });
    await msalWrite(cache, 'now');
    assert.deepEqual(await namesIn(file, key), ['now']);
    assert.ok(log.lines.some((l) => l.event === 'cache.lock_stale' && l.reason === 'clock'), JSON.stringify(log.lines));
  });
});
