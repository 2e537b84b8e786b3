import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeCache } from '../../../src/auth/cache/format.js';
import { CLIENT_ID, withTempDir } from './helpers.js';
import { typescriptNodeFlags } from '../../support/ts-loader/index.js';

/**
 * SIGKILL a process that writes the cache in a loop, at random moments, many times: after every
 * kill the file must decrypt to one complete version, never older than the one before. Two lanes
 * (own folder, own writer) run side by side so the ~250 ms start-up of each writer does not make
 * the test slow. crash-safety.test.ts kills 12 times with a fixed seed (npm test);
 * crash-safety.long.test.ts 200 times with a new seed each run (npm run test:long).
 */

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-writer.ts');
const LANES = 2;
const MAX_DELAY_MS = 30;

/** Small seeded PRNG, so a failure can be replayed with the seed from the message. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Version { version: number; pad: string; check: string }

async function readVersion(file: string, key: Buffer): Promise<Version | undefined> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(decodeCache(data, key, CLIENT_ID, file)) as Version;
  assert.equal(createHash('sha256').update(parsed.pad).digest('hex'), parsed.check, `version ${parsed.version} is not complete`);
  return parsed;
}

function startWriter(file: string, key: Buffer, mode?: 'once') {
  const child = spawn(process.execPath, [...typescriptNodeFlags(), WRITER, file, ...(mode ? [mode] : [])], {
    env: { ...process.env, CRASH_KEY_HEX: key.toString('hex'), CRASH_CLIENT_ID: CLIENT_ID },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`writer exited before ready (${code ?? signal}): ${stderr}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, stderr: () => stderr };
}

async function runLane(dir: string, random: () => number, killsPerLane: number): Promise<{ kills: number; tempFilesSeen: number; lastVersion: number }> {
  const file = path.join(dir, 'token-cache.bin');
  const key = randomBytes(32);
  let last = 0;
  let tempFilesSeen = 0;
  for (let kill = 0; kill < killsPerLane; kill += 1) {
    const writer = startWriter(file, key);
    await writer.ready;
    await sleep(Math.floor(random() * (MAX_DELAY_MS + 1)));
    const exited = once(writer.child, 'exit');
    writer.child.kill('SIGKILL');
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL', `the writer stopped on its own: ${writer.stderr()}`);
    assert.equal(writer.stderr(), '', 'the writer logged a warning or error');

    const current = await readVersion(file, key);
    if (current) {
      assert.ok(current.version >= last, `after kill ${kill} the file went back from version ${last} to ${current.version}`);
      last = current.version;
    } else {
      assert.equal(last, 0, `after kill ${kill} the cache file disappeared`);
    }
    if ((await readdir(dir)).some((name) => name.includes('.tmp-'))) tempFilesSeen += 1;
  }

  // A writer that finishes normally cleans up what the killed ones left behind.
  const final = startWriter(file, key, 'once');
  const [code] = (await once(final.child, 'exit')) as [number | null];
  assert.equal(code, 0, final.stderr());
  assert.deepEqual((await readdir(dir)).filter((name) => name.includes('.tmp-')), [], 'stale temp files were not removed');
  const after = await readVersion(file, key);
  assert.equal(after?.version, last + 1);
  return { kills: killsPerLane, tempFilesSeen, lastVersion: last };
}

/**
 * Kills `kills` writers (half in each lane) and checks the file after each. The seed picks the
 * moments; `CRASH_SEED` replays a failure.
 */
export async function killWritersAtRandom(t: TestContext, kills: number, defaultSeed: number): Promise<void> {
  const seed = Number(process.env.CRASH_SEED ?? defaultSeed);
  t.diagnostic(`seed ${seed} (replay with CRASH_SEED=${seed})`);
  const random = mulberry32(seed);
  await withTempDir(async (root) => {
    // allSettled: a failing lane must not leave the other one spawning writers into a folder
    // that is being deleted.
    const settled = await Promise.allSettled(Array.from({ length: LANES }, async (_, i) => {
      const dir = path.join(root, `lane-${i}`);
      await mkdir(dir, { mode: 0o700 });
      return runLane(dir, random, kills / LANES);
    }));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const lanes = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof runLane>>>).value);
    const total = lanes.reduce((sum, lane) => sum + lane.kills, 0);
    const interrupted = lanes.reduce((sum, lane) => sum + lane.tempFilesSeen, 0);
    t.diagnostic(`${total} kills, ${interrupted} of them mid-write, last versions ${lanes.map((l) => l.lastVersion).join(', ')}`);
    assert.equal(total, kills);
    // Evidence that the kills did land inside writes (a temp file was left behind), so the
    // test exercised the dangerous moments and not only the gaps between writes.
    assert.ok(interrupted > 0, `no kill interrupted a write (seed ${seed})`);
    // And that writes completed between the kills (on a busy machine a lane's writer may be
    // killed every time before its first write is done; the other lane's then count).
    assert.ok(lanes.some((lane) => lane.lastVersion > 0), 'no write ever completed between the kills');
  });
}
