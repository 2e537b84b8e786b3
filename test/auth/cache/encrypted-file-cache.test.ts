import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PublicClientApplication, TokenCacheContext, type ISerializableTokenCache } from '@azure/msal-node';
import { EncryptedFileCache, utcStamp } from '../../../src/auth/cache/encrypted-file-cache.js';
import { encodeCache } from '../../../src/auth/cache/format.js';
import type { CacheNotOursError, CacheUnreadableReason } from '../../../src/auth/cache/errors.js';
import { CLIENT_ID, OTHER_CLIENT_ID, REFRESH_TOKEN, USERNAME, captureLog, sampleCache, withTempDir, type LogLine } from './helpers.js';

const key = randomBytes(32);

function plugin(file: string, options: { key?: Buffer; clientId?: string; now?: () => Date } = {}) {
  const log = captureLog();
  /** What the cache reported through onNotOurs (the daemon stops on it). */
  const notOurs: CacheNotOursError[] = [];
  const cache = new EncryptedFileCache({
    path: file, key: options.key ?? key, clientId: options.clientId ?? CLIENT_ID, logger: log.logger,
    onNotOurs: (problem) => void notOurs.push(problem),
    ...(options.now ? { now: options.now } : {}),
  });
  return { cache, log, notOurs };
}

function app(cachePlugin: EncryptedFileCache, clientId = CLIENT_ID): PublicClientApplication {
  return new PublicClientApplication({
    auth: { clientId, authority: 'https://login.microsoftonline.com/organizations' },
    cache: { cachePlugin },
  });
}

/** Puts `json` into a fresh msal app's cache and lets the plugin persist it, as msal does after a sign-in. */
async function persist(cachePlugin: EncryptedFileCache, json = sampleCache()): Promise<void> {
  const tokenCache = app(cachePlugin).getTokenCache();
  tokenCache.deserialize(json);
  await cachePlugin.afterCacheAccess(new TokenCacheContext(tokenCache, true));
}

async function usernames(cachePlugin: EncryptedFileCache): Promise<string[]> {
  const accounts = await app(cachePlugin).getTokenCache().getAllAccounts();
  return accounts.map((a) => a.name ?? a.username);
}

function errors(lines: LogLine[]): LogLine[] {
  return lines.filter((l) => l.level === 'error');
}

/** A TokenCache stand-in that counts what the plugin hands it. */
function countingCache(content = sampleCache()): ISerializableTokenCache & { deserialized: string[] } {
  const deserialized: string[] = [];
  return { deserialized, deserialize: (s: string) => void deserialized.push(s), serialize: () => content };
}

test('a cache written by one app instance is read back by a new one, with its refresh token', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    await persist(plugin(file).cache);

    const reader = plugin(file).cache;
    const pca = app(reader);
    const accounts = await pca.getTokenCache().getAllAccounts();
    assert.deepEqual(accounts.map((a) => a.homeAccountId), ['uid1.tid1']);
    assert.match(pca.getTokenCache().serialize(), new RegExp(REFRESH_TOKEN));
  });
});

test('the file on disk holds no token, username or client id in clear', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    await persist(plugin(file).cache);
    const bytes = await readFile(file);
    for (const secret of [REFRESH_TOKEN, USERNAME, CLIENT_ID, 'RefreshToken', 'secret']) {
      assert.equal(bytes.includes(Buffer.from(secret)), false, `"${secret}" found in the cache file`);
    }
    assert.equal(bytes.subarray(0, 4).toString(), 'GDAC');
  });
});

test('the cache file is 0600 and a folder created for it 0700', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'state', 'auth', 'token-cache.bin');
    await persist(plugin(file).cache);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
    assert.equal((await stat(path.join(dir, 'state'))).mode & 0o777, 0o700);
  });
});

test('nothing is written when msal did not change the cache', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const { cache } = plugin(file);
    // Reading accounts runs both hooks with "unchanged": no file appears.
    assert.deepEqual(await usernames(cache), []);
    await assert.rejects(stat(file), { code: 'ENOENT' });

    await persist(cache);
    const before = await stat(file);
    assert.deepEqual(await usernames(cache), ['Ada']);
    await cache.afterCacheAccess(new TokenCacheContext(countingCache(), false));
    const after = await stat(file);
    assert.equal(after.ino, before.ino, 'an unchanged cache must not be rewritten');
    assert.equal(after.mtimeMs, before.mtimeMs);
  });
});

test('every access hands msal the file\'s content (msal clears its store before each silent call)', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    await persist(plugin(file).cache);
    const { cache } = plugin(file);

    const first = countingCache();
    await cache.beforeCacheAccess(new TokenCacheContext(first, false));
    await cache.beforeCacheAccess(new TokenCacheContext(first, false));
    await cache.beforeCacheAccess(new TokenCacheContext(first, false));
    // acquireTokenSilent runs overwriteCache(): msal empties its store and rebuilds it from what
    // beforeCacheAccess deserializes, so skipping a deserialize would leave it with no tokens.
    assert.equal(first.deserialized.length, 3, 'each access must deserialize');
    assert.equal(new Set(first.deserialized).size, 1, 'an unchanged file gives the same content each time');
    assert.match(first.deserialized[0] ?? '', new RegExp(REFRESH_TOKEN));

    const second = countingCache();
    await cache.beforeCacheAccess(new TokenCacheContext(second, false));
    assert.equal(second.deserialized.length, 1);
    assert.equal(second.deserialized[0], first.deserialized[0]);

    // Another process writes a new refresh token: the next access picks it up.
    await persist(plugin(file).cache, sampleCache(CLIENT_ID, 'rotated-refresh-token'));
    await cache.beforeCacheAccess(new TokenCacheContext(first, false));
    assert.equal(first.deserialized.length, 4);
    assert.match(first.deserialized[3] ?? '', /rotated-refresh-token/);
  });
});

test('a cache file deleted by another process (logout) empties the in-memory cache', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const { cache } = plugin(file);
    await persist(cache);
    const pca = app(cache);
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 1);
    await rm(file);
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 0);
  });
});

const damages: Array<{ reason: CacheUnreadableReason; damage: (good: Buffer) => Buffer; writer?: { key?: Buffer; clientId?: string } }> = [
  { reason: 'wrong-key-or-tampered', damage: (good) => good, writer: { key: randomBytes(32) } },
  { reason: 'wrong-key-or-tampered', damage: (good) => { const b = Buffer.from(good); b[40] = (b[40] ?? 0) ^ 0x80; return b; } },
  { reason: 'truncated', damage: (good) => good.subarray(0, good.length - 50) },
  { reason: 'empty', damage: () => Buffer.alloc(0) },
  { reason: 'unknown-version', damage: (good) => { const b = Buffer.from(good); b[4] = 9; return b; } },
  { reason: 'wrong-client', damage: (good) => good, writer: { clientId: OTHER_CLIENT_ID } },
];

for (const { reason, damage, writer } of damages) {
  test(`an unreadable cache (${reason}${writer?.key ? ', other key' : ''}) is moved aside with one error line, and the next write keeps it`, async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'token-cache.bin');
      const writerPlugin = plugin(file, writer ?? {}).cache;
      await persist(writerPlugin, sampleCache(writer?.clientId ?? CLIENT_ID));
      const damaged = damage(await readFile(file));
      await writeFile(file, damaged, { mode: 0o600 });

      const { cache, log } = plugin(file, { now: () => new Date('2025-03-14T09:15:00.250Z') });
      assert.deepEqual(await usernames(cache), [], 'continues with an empty cache');

      const lines = errors(log.lines);
      assert.equal(lines.length, 1, JSON.stringify(log.lines));
      const line = lines[0]!;
      assert.equal(line.event, 'cache.unreadable');
      assert.equal(line.reason, reason);
      assert.equal(line.file, file);
      const aside = `${file}.unreadable-20250314T091500Z`;
      assert.equal(line.movedTo, aside);
      assert.match(String(line.msg), /sign in again/);
      assert.deepEqual(await readFile(aside), damaged, 'the moved-aside file keeps the original bytes');
      await assert.rejects(stat(file), { code: 'ENOENT' });

      // A new sign-in is written; the moved-aside file survives it, and reading again is quiet.
      await persist(cache, sampleCache(CLIENT_ID, 'fresh-sign-in'));
      assert.deepEqual(await readFile(aside), damaged);
      assert.deepEqual(await usernames(plugin(file).cache), ['Ada']);
      assert.deepEqual(await usernames(cache), ['Ada']);
      assert.equal(errors(log.lines).length, 1);
    });
  });
}

test('a file that is not ours at the cache path (a config, say) is neither moved nor overwritten', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'config.json');
    const original = '{"auth":{"clientId":"x"}}\n';
    await writeFile(file, original, { mode: 0o600 });
    const { cache, log, notOurs } = plugin(file);
    assert.deepEqual(await usernames(cache), []);
    await persist(cache);
    assert.equal(await readFile(file, 'utf8'), original, 'left as it was');
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes('unreadable')), [], 'nothing moved aside');
    const lines = errors(log.lines);
    assert.equal(lines.length, 1, JSON.stringify(log.lines));
    assert.equal(lines[0]!.event, 'cache.not_ours');
    assert.match(String(lines[0]!.msg), /^cache\.path: .* left untouched/);
    assert.deepEqual(notOurs.map((p) => p.what), ['does not start with the cache header ("GDAC")'], 'reported once');
  });
});

test('a symbolic link at the cache path is not followed: its target is neither read nor replaced', async () => {
  await withTempDir(async (dir) => {
    const target = path.join(dir, 'elsewhere.bin');
    const good = plugin(target).cache;
    await persist(good);
    const before = await readFile(target);
    const file = path.join(dir, 'token-cache.bin');
    await symlink(target, file);
    const { cache, log, notOurs } = plugin(file);
    assert.deepEqual(await usernames(cache), [], 'the tokens behind the link are not used');
    await persist(cache, sampleCache(CLIENT_ID, 'other'));
    assert.deepEqual(await readFile(target), before, 'the target is unchanged');
    assert.ok((await lstat(file)).isSymbolicLink(), 'the link is still there');
    assert.deepEqual(errors(log.lines).map((l) => l.event), ['cache.not_ours']);
    assert.deepEqual(notOurs.map((p) => p.what), [`is a symbolic link to ${target} (the cache is never read or replaced through one)`]);
  });
});

test('a FIFO at the cache path does not hang the cache, and is left alone', async (t) => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    if (spawnSync('mkfifo', [file]).status !== 0) return t.skip('no mkfifo');
    const { cache, log, notOurs } = plugin(file);
    assert.deepEqual(await usernames(cache), []);
    await persist(cache);
    assert.ok((await lstat(file)).isFIFO());
    assert.match(JSON.stringify(errors(log.lines)), /FIFO/);
    assert.deepEqual(notOurs.map((p) => p.what), ['is a FIFO, not a file']);
  });
});

test('a cache replaced by a foreign file while running: reported once, the tokens in memory kept, nothing written over it', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const { cache, log, notOurs } = plugin(file);
    await persist(cache);
    const pca = app(cache);
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 1);

    await writeFile(`${file}.new`, 'name,email\n');
    await rename(`${file}.new`, file);
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 1, 'kept until the daemon stops');
    await persist(cache, sampleCache(CLIENT_ID, 'after-swap'));
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 1);
    assert.equal(await readFile(file, 'utf8'), 'name,email\n', 'never written over');
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes('unreadable')), [], 'nothing moved aside');
    assert.equal(notOurs.length, 1, 'reported once');
    assert.deepEqual(errors(log.lines).map((l) => l.event), ['cache.not_ours']);
  });
});

test('a cache replaced by an unreadable file while running is moved aside before the next write', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const { cache, log } = plugin(file);
    await persist(cache);
    assert.deepEqual(await usernames(cache), ['Ada']);

    const foreign = encodeCache(sampleCache(), randomBytes(32), CLIENT_ID);
    await writeFile(file, foreign);
    await persist(cache, sampleCache(CLIENT_ID, 'after-rekey'));

    const names = await readdir(dir);
    const aside = names.filter((n) => n.startsWith('token-cache.bin.unreadable-'));
    assert.equal(aside.length, 1, names.join(', '));
    assert.deepEqual(await readFile(path.join(dir, aside[0]!)), foreign);
    assert.equal(errors(log.lines).length, 1);
    const reader = app(plugin(file).cache).getTokenCache();
    await reader.getAllAccounts();
    assert.match(reader.serialize(), /after-rekey/);
  });
});

test('a cache that turns unreadable while the agent runs drops the tokens it held in memory', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const { cache, log } = plugin(file);
    await persist(cache);
    const pca = app(cache);
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 1);

    await writeFile(file, encodeCache(sampleCache(OTHER_CLIENT_ID), key, OTHER_CLIENT_ID));
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 0);
    assert.doesNotMatch(pca.getTokenCache().serialize(), new RegExp(REFRESH_TOKEN));
    assert.deepEqual(errors(log.lines).map((l) => l.reason), ['wrong-client']);
  });
});

test('only the newest 3 moved-aside files are kept', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const times = ['2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z', '2025-01-03T00:00:00Z', '2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z'];
    for (const [i, time] of times.entries()) {
      // Damaged files of ours (our header): only those are ever moved aside.
      await writeFile(file, `GDACgarbage ${i}`);
      const { cache } = plugin(file, { now: () => new Date(time) });
      assert.deepEqual(await usernames(cache), []);
    }
    const kept = (await readdir(dir)).sort();
    assert.deepEqual(kept, [
      'token-cache.bin.unreadable-20250103T000000Z',
      'token-cache.bin.unreadable-20250103T000000Z-1',
      'token-cache.bin.unreadable-20250104T000000Z',
    ]);
    assert.equal(await readFile(path.join(dir, kept[2]!), 'utf8'), 'GDACgarbage 4');
    assert.equal(await readFile(path.join(dir, kept[1]!), 'utf8'), 'GDACgarbage 3');
  });
});

const FROZEN_AT = new Date('2026-01-01T00:00:00Z');

/**
 * Makes moving `file` aside impossible: chmod for a normal user, the immutable flag for root,
 * and where root has no chattr (a minimal Debian userland), every name the plugin would try
 * (it never overwrites an older moved-aside file) is taken already.
 */
async function freeze(dir: string, file: string): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o500);
    return () => chmod(dir, 0o700);
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    return async () => void execFileSync('chattr', ['-i', dir]);
  } catch {
    const stamp = utcStamp(FROZEN_AT);
    const names = Array.from({ length: 100 }, (_, n) => `${file}.unreadable-${stamp}${n === 0 ? '' : `-${n}`}`);
    for (const name of names) await writeFile(name, 'taken');
    return async () => {
      for (const name of names) await rm(name, { force: true });
    };
  }
}

test('an unreadable cache that cannot be moved aside is never overwritten', async () => {
  await withTempDir(async (dir) => {
    const folder = path.join(dir, 'auth');
    await mkdir(folder);
    const file = path.join(folder, 'token-cache.bin');
    const foreign = encodeCache(sampleCache(), randomBytes(32), CLIENT_ID);
    await writeFile(file, foreign);
    const thaw = await freeze(folder, file);
    try {
      const { cache, log } = plugin(file, { now: () => FROZEN_AT });
      assert.deepEqual(await usernames(cache), []);
      await persist(cache, sampleCache(CLIENT_ID, 'must-not-replace'));
      await persist(cache, sampleCache(CLIENT_ID, 'must-not-replace-either'));
      assert.deepEqual(await readFile(file), foreign);
      const lines = errors(log.lines);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.equal(lines[0]?.event, 'cache.unreadable');
      assert.ok(lines[0]?.moveError, 'the line says the move failed');
    } finally {
      await thaw();
    }
  });
});

test('a failed write is logged, keeps the sign-in in memory and is retried on the next access', async () => {
  await withTempDir(async (dir) => {
    const blocker = path.join(dir, 'auth');
    await writeFile(blocker, 'a file where the folder should be');
    const file = path.join(blocker, 'token-cache.bin');
    const { cache, log } = plugin(file);
    const pca = app(cache);
    pca.getTokenCache().deserialize(sampleCache());
    await cache.afterCacheAccess(new TokenCacheContext(pca.getTokenCache(), true));
    const failed = errors(log.lines);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.event, 'cache.write_failed');
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 1, 'still signed in, in memory');

    await rm(blocker);
    // The next hooks, with nothing new from msal, write what is pending.
    assert.equal((await pca.getTokenCache().getAllAccounts()).length, 1);
    assert.deepEqual(await usernames(plugin(file).cache), ['Ada']);
  });
});

test('temp files of dead writers are removed on the next write; a live writer\'s are left alone', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const stale = `.token-cache.bin.tmp-${dead}-0123456789ab`;
    const live = `.token-cache.bin.tmp-1-0123456789ab`;
    const unrelated = '.other.bin.tmp-999999-0123456789ab';
    for (const name of [stale, live, unrelated]) await writeFile(path.join(dir, name), 'partial');
    await persist(plugin(file).cache);
    const names = await readdir(dir);
    assert.equal(names.includes(stale), false, 'stale temp file was not removed');
    assert.equal(names.includes(live), true);
    assert.equal(names.includes(unrelated), true);
  });
});

test('status() describes an absent, a readable and an unreadable cache', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.bin');
    const { cache } = plugin(file);
    assert.deepEqual(await cache.status(), { path: file, exists: false, bytes: 0, modifiedAt: null, mode: null, readable: false, movedAside: [], lock: 'none' });

    await persist(cache);
    const ok = await cache.status();
    assert.equal(ok.exists, true);
    assert.equal(ok.readable, true);
    assert.equal(ok.bytes, (await stat(file)).size);
    assert.equal(ok.mode, 0o600);
    assert.ok(ok.modifiedAt instanceof Date);

    const other = await plugin(file, { key: randomBytes(32) }).cache.status();
    assert.equal(other.readable, false);
    assert.equal(other.unreadableReason, 'wrong-key-or-tampered');
    assert.deepEqual(await readdir(dir), ['token-cache.bin'], 'status() must not move anything');
  });
});

test('a cache written by root (sudo graph-device-agent login) keeps the service user as its owner', async () => {
  await withTempDir(async (dir) => {
    const folder = path.join(dir, 'state');
    await mkdir(folder, { mode: 0o700 });
    const file = path.join(folder, 'token-cache.bin');
    const root = process.getuid?.() === 0;
    // Root: a state folder owned by the service's user, as systemd's StateDirectory= makes it.
    if (root) await chown(folder, 4242, 4343);
    await persist(plugin(file).cache);
    const created = await stat(file);
    assert.deepEqual([created.uid, created.gid], root ? [4242, 4343] : [process.getuid?.(), process.getgid?.()]);
    if (root) await chown(file, 5151, 5252);
    await persist(plugin(file).cache, sampleCache(CLIENT_ID, 'second-write'));
    const replaced = await stat(file);
    assert.notEqual(replaced.ino, created.ino, 'the file was replaced, not rewritten in place');
    assert.deepEqual([replaced.uid, replaced.gid], root ? [5151, 5252] : [process.getuid?.(), process.getgid?.()]);
    assert.equal(replaced.mode & 0o777, 0o600);
  });
});
