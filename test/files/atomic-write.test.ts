import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../src/files/atomic-write.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'atomic-write-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('writes the content, private (0600) unless the caller asks for another mode', async (t) => {
  const dir = await tempDir(t);
  const secret = path.join(dir, 'state', 'token-cache.bin');
  await writeFileAtomic(secret, Buffer.from([1, 2, 3]));
  assert.deepEqual(await readFile(secret), Buffer.from([1, 2, 3]));
  assert.equal((await stat(secret)).mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(secret))).mode & 0o777, 0o700, 'a folder it creates is private too');

  const shared = path.join(dir, 'status.json');
  await writeFileAtomic(shared, '{"state":"signed-in"}\n', { mode: 0o644 });
  assert.equal(await readFile(shared, 'utf8'), '{"state":"signed-in"}\n');
  assert.equal((await stat(shared)).mode & 0o777, 0o644);
});

test('replaces the old file by rename: a reader holding the old one still reads it whole', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'me.json');
  await writeFile(file, 'old');
  const reader = await open(file, 'r');
  try {
    await writeFileAtomic(file, 'new');
    assert.equal(await readFile(file, 'utf8'), 'new');
    assert.equal((await reader.readFile('utf8')), 'old');
  } finally {
    await reader.close();
  }
  assert.deepEqual(await readdir(dir), ['me.json'], 'no temp file left');
});

test('the data reaches the disk before the rename, and the rename reaches it after', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'screen.png');
  const probe = await open(path.join(dir, 'probe'), 'w');
  const fileHandle = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const targetAtSync: boolean[] = [];
  const sync = fileHandle.sync;
  t.mock.method(fileHandle, 'sync', function (this: unknown) {
    targetAtSync.push(existsSync(file));
    return sync.call(this);
  });
  await writeFileAtomic(file, 'frame');
  // The temp file is synced while the target does not exist yet; the folder once it does.
  assert.deepEqual(targetAtSync, [false, true]);
});

test('a failed write leaves no temp file behind', async (t) => {
  const dir = await tempDir(t);
  const target = path.join(dir, 'out.json');
  await mkdir(target); // rename(file, folder) fails: EISDIR
  await assert.rejects(writeFileAtomic(target, '{}'), { code: 'EISDIR' });
  assert.deepEqual(await readdir(dir), ['out.json']);

  const key = path.join(dir, 'key');
  await writeFile(key, 'first');
  await assert.rejects(writeFileAtomic(key, 'second', { exclusive: true }), { code: 'EEXIST' });
  assert.equal(await readFile(key, 'utf8'), 'first');
  assert.deepEqual((await readdir(dir)).sort(), ['key', 'out.json']);
});

test('never follows a symlink planted at the temp name', async (t) => {
  const dir = await tempDir(t);
  const victim = path.join(dir, 'victim');
  await writeFile(victim, 'untouched');
  // Make the "random" part of the temp name known, as an attacker would need it to be.
  t.mock.method(crypto, 'randomBytes', (size: number) => Buffer.alloc(size, 0xab));
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
  const target = path.join(dir, 'status.json');
  const planted = path.join(dir, `.status.json.tmp-${process.pid}-abababababab`);
  await symlink(victim, planted);

  await assert.rejects(writeFileAtomic(target, 'attack'), { code: 'EEXIST' });
  assert.equal(await readFile(victim, 'utf8'), 'untouched');
  assert.equal(existsSync(target), false);
});
