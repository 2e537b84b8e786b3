import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rekeyCache, RekeyError, type RekeyOptions } from '../../../src/auth/cache/rekey.js';
import { decodeCache } from '../../../src/auth/cache/format.js';
import { loadKeyFile, writeKeyFile } from '../../../src/auth/cache/key.js';
import { CLIENT_ID, REFRESH_TOKEN, captureLog, withTempDir } from './helpers.js';
import { killRekeyAtRandom, opens, setUp } from './rekey-kills.js';

function options(o: Partial<RekeyOptions> & Pick<RekeyOptions, 'cachePath' | 'currentKey' | 'newKeyFile'>): RekeyOptions {
  return { clientId: CLIENT_ID, logger: captureLog().logger, lock: { staleMs: 2000 }, ...o };
}


test('rekey of a key file: the cache opens with the new key only, the key file holds it (0600), nothing left over', async () => {
  await withTempDir(async (dir) => {
    const { cachePath, keyFile, oldKey } = await setUp(dir);
    const result = await rekeyCache(options({ cachePath, currentKey: oldKey, newKeyFile: `${keyFile}.new`, replaceKeyFile: keyFile, newKeyFileIsOurs: true }));
    assert.deepEqual(result, { keyFile, cacheRekeyed: true, resumed: false });
    const newKey = await loadKeyFile(keyFile);
    assert.notDeepEqual(newKey, oldKey);
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const data = await readFile(cachePath);
    assert.equal(opens(data, oldKey), false, 'the old key still opens the cache');
    assert.match(decodeCache(data, newKey, CLIENT_ID, cachePath), new RegExp(REFRESH_TOKEN), 'the tokens survived');
    assert.deepEqual((await readdir(dir)).sort(), ['token-cache.bin', 'token-cache.key']);
  });
});

test('rekey with the wrong current key changes nothing', async () => {
  await withTempDir(async (dir) => {
    const { cachePath, keyFile } = await setUp(dir);
    const before = { cache: await readFile(cachePath), key: await readFile(keyFile) };
    await assert.rejects(
      rekeyCache(options({ cachePath, currentKey: randomBytes(32), newKeyFile: `${keyFile}.new`, replaceKeyFile: keyFile, newKeyFileIsOurs: true })),
      (err: unknown) => err instanceof RekeyError && /nothing was changed/.test(err.message),
    );
    assert.deepEqual(await readFile(cachePath), before.cache);
    assert.deepEqual(await readFile(keyFile), before.key);
    assert.deepEqual((await readdir(dir)).sort(), ['token-cache.bin', 'token-cache.key']);
  });
});

test('rekey for a sealed credential writes the new key beside it, and running it again only finishes, never re-keys', async () => {
  await withTempDir(async (dir) => {
    const { cachePath, oldKey } = await setUp(dir);
    const newKeyFile = path.join(dir, 'state', 'token-cache.key.new');
    const first = await rekeyCache(options({ cachePath, currentKey: oldKey, newKeyFile }));
    assert.deepEqual(first, { keyFile: newKeyFile, cacheRekeyed: true, resumed: false });
    const newKey = await loadKeyFile(newKeyFile);
    assert.ok(opens(await readFile(cachePath), newKey));
    // A temp file of a run killed while writing the new key (a dead pid): it may hold a key.
    const leftover = path.join(dir, 'state', '.token-cache.key.new.tmp-4194303-0badc0de');
    await writeFile(leftover, 'half a key');
    // Not yet re-sealed: the credential still holds the old key. Again: nothing new happens.
    const again = await rekeyCache(options({ cachePath, currentKey: oldKey, newKeyFile }));
    assert.deepEqual(again, { keyFile: newKeyFile, cacheRekeyed: true, resumed: true });
    assert.ok(!(await readdir(path.join(dir, 'state'))).includes(path.basename(leftover)), 'the finishing run removes a killed run\'s temp file too');
    assert.deepEqual(await loadKeyFile(newKeyFile), newKey);
    assert.ok(opens(await readFile(cachePath), newKey));
  });
});

test('rekey refuses to overwrite an existing --new-key-file that is not its own leftover', async () => {
  await withTempDir(async (dir) => {
    const { cachePath, oldKey } = await setUp(dir);
    const precious = path.join(dir, 'precious.key');
    const preciousKey = await writeKeyFile(precious);
    await assert.rejects(rekeyCache(options({ cachePath, currentKey: oldKey, newKeyFile: precious })), /already exists/);
    assert.deepEqual(await loadKeyFile(precious), preciousKey);
    assert.ok(opens(await readFile(cachePath), oldKey));
  });
});

test('rekey without a cache makes the new key only', async () => {
  await withTempDir(async (dir) => {
    const keyFile = path.join(dir, 'token-cache.key');
    const oldKey = await writeKeyFile(keyFile);
    const result = await rekeyCache(options({ cachePath: path.join(dir, 'token-cache.bin'), currentKey: oldKey, newKeyFile: `${keyFile}.new`, replaceKeyFile: keyFile, newKeyFileIsOurs: true }));
    assert.deepEqual(result, { keyFile, cacheRekeyed: false, resumed: false });
    assert.notDeepEqual(await loadKeyFile(keyFile), oldKey);
  });
});

// 5 kills; 25 are rekey.long.test.ts (npm run test:long).
test('rekey killed at random moments never leaves a cache that neither key opens; the next rekey finishes the job', { timeout: 120_000 }, async (t) => {
  await killRekeyAtRandom(t, 5);
});
