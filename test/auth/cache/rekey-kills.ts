import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeCache, encodeCache } from '../../../src/auth/cache/format.js';
import { loadKeyFile, writeKeyFile } from '../../../src/auth/cache/key.js';
import { CLIENT_ID, REFRESH_TOKEN, sampleCache, withTempDir } from './helpers.js';
import { typescriptNodeFlags } from '../../support/ts-loader/index.js';

/**
 * Rekey killed at random moments (rekey-runner.ts in a child, SIGKILLed): rekey.test.ts kills it
 * 5 times (npm test), rekey.long.test.ts 25 times (npm run test:long). Also the cache fixture
 * both share with rekey.test.ts.
 */

const RUNNER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rekey-runner.ts');

export async function setUp(dir: string): Promise<{ cachePath: string; keyFile: string; oldKey: Buffer }> {
  const cachePath = path.join(dir, 'token-cache.bin');
  const keyFile = path.join(dir, 'token-cache.key');
  const oldKey = await writeKeyFile(keyFile);
  await writeFile(cachePath, encodeCache(sampleCache(), oldKey, CLIENT_ID), { mode: 0o600 });
  return { cachePath, keyFile, oldKey };
}

export function opens(data: Buffer, key: Buffer, file = 'cache'): boolean {
  try {
    decodeCache(data, key, CLIENT_ID, file);
    return true;
  } catch {
    return false;
  }
}

/** The invariant: the cache opens with the key file's key, or (interrupted) with the pending one. */
async function checkInvariant(cachePath: string, keyFile: string, kill: number): Promise<'current' | 'pending'> {
  const data = await readFile(cachePath);
  const current = await loadKeyFile(keyFile);
  if (opens(data, current)) return 'current';
  const pending = await loadKeyFile(`${keyFile}.new`).catch(() => undefined);
  assert.ok(pending && opens(data, pending), `after kill ${kill} neither the key file nor the pending key opens the cache`);
  return 'pending';
}

/**
 * Kills `kills` rekey runners at random moments; after each the cache must open with the key
 * file's key or the pending one, and a last rekey finishes the job.
 */
export async function killRekeyAtRandom(t: TestContext, kills: number): Promise<void> {
  await withTempDir(async (dir) => {
    const { cachePath, keyFile } = await setUp(dir);
    let interrupted = 0;
    for (let kill = 0; kill < kills; kill += 1) {
      const child = spawn(process.execPath, [...typescriptNodeFlags(), RUNNER, cachePath, keyFile], {
        env: { ...process.env, REKEY_CLIENT_ID: CLIENT_ID }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`runner exited (${code}): ${stderr}`)));
      });
      await sleep(Math.floor(Math.random() * 40));
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      assert.equal(stderr, '', 'the runner logged an error');
      if ((await checkInvariant(cachePath, keyFile, kill)) === 'pending') interrupted += 1;
    }
    t.diagnostic(`${kills} kills, ${interrupted} between re-encrypting the cache and switching the key file`);
    const final = spawn(process.execPath, [...typescriptNodeFlags(), RUNNER, cachePath, keyFile, 'once'], { env: { ...process.env, REKEY_CLIENT_ID: CLIENT_ID }, stdio: 'ignore' });
    const [code] = (await once(final, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.equal(await checkInvariant(cachePath, keyFile, kills), 'current');
    assert.match(decodeCache(await readFile(cachePath), await loadKeyFile(keyFile), CLIENT_ID, cachePath), new RegExp(REFRESH_TOKEN));
    assert.deepEqual((await readdir(dir)).sort(), ['token-cache.bin', 'token-cache.key'], 'temp files (with keys in them) were left behind');
  });
}
