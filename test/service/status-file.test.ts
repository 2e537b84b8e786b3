import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { judgeHealth } from '../../src/service/health.js';
import { StatusFile, type StatusFileContent } from '../../src/service/status-file.js';
import { captureLogs } from '../support/log-capture.js';
import { FakeClock } from '../support/fake-clock.js';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const T0 = Date.parse('2026-01-01T12:00:00Z');

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'status-file-'));
}

async function readStatus(file: string): Promise<StatusFileContent> {
  return JSON.parse(await readFile(file, 'utf8')) as StatusFileContent;
}

test('the status file holds the latest state, refreshed by the heartbeat, and ends as "stopped"', async () => {
  const dir = await tempDir();
  try {
    const file = path.join(dir, 'state', 'status.json');
    const clock = new FakeClock(T0);
    const { logger } = captureLogs();
    const status = new StatusFile({ path: file, logger, now: clock.now, timers: clock, heartbeatMs: 30_000 });
    await status.start();
    assert.deepEqual(clock.delays(), [30_000]);
    assert.equal((await readStatus(file)).state, 'starting');
    await status.update({ state: 'showing-code', healthy: true, detail: 'waiting for sign-in' });
    let content = await readStatus(file);
    assert.deepEqual({ ...content, pid: 0 }, { state: 'showing-code', healthy: true, detail: 'waiting for sign-in', updatedAt: '2026-01-01T12:00:00.000Z', pid: 0 });
    assert.equal(content.pid, process.pid);
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'it names the signed-in user: for the agent\'s user only');

    clock.advanceBy(30_000);
    await status.update({ state: 'signed-in', healthy: true }); // waits behind the heartbeat's write
    content = await readStatus(file);
    assert.equal(content.state, 'signed-in');
    assert.equal(content.updatedAt, '2026-01-01T12:00:30.000Z');

    await status.stop();
    assert.equal(clock.pendingTimers, 0);
    content = await readStatus(file);
    assert.equal(content.state, 'stopped');
    assert.equal(content.healthy, false);
    // Replaced by rename: no temp files left behind.
    assert.deepEqual(await readdir(path.dirname(file)), ['status.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a status file that cannot be written is one warning, not a crash', async () => {
  const dir = await tempDir();
  try {
    const blocker = path.join(dir, 'not-a-folder');
    await writeFile(blocker, '');
    const { logger, lines } = captureLogs();
    const status = new StatusFile({ path: path.join(blocker, 'status.json'), logger, timers: new FakeClock() });
    await status.start();
    await status.update({ state: 'signed-in', healthy: true });
    assert.deepEqual(lines().map((l) => [l.event, l.level]), [['service.status_file_failed', 'warn']]);
    await status.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('health: fresh and healthy passes; stale, unhealthy, missing or broken fails with a reason', () => {
  const fresh = JSON.stringify({ state: 'signed-in', healthy: true, detail: 'Ada', updatedAt: new Date(T0 - 10_000).toISOString(), pid: 1 });
  assert.deepEqual(judgeHealth(fresh, T0), { healthy: true, message: 'signed-in (Ada), updated 10 s ago' });

  const stale = JSON.stringify({ state: 'signed-in', healthy: true, updatedAt: new Date(T0 - 91_000).toISOString(), pid: 1 });
  const staleVerdict = judgeHealth(stale, T0);
  assert.equal(staleVerdict.healthy, false);
  assert.match(staleVerdict.message, /not updated for 91 s/);
  assert.equal(judgeHealth(stale, T0, 120_000).healthy, true);

  const sick = JSON.stringify({ state: 'needs-press', healthy: false, detail: 'app registration', updatedAt: new Date(T0).toISOString(), pid: 1 });
  assert.deepEqual(judgeHealth(sick, T0), { healthy: false, message: 'needs-press (app registration): needs attention' });

  assert.match(judgeHealth(undefined, T0).message, /no status file yet/);
  assert.match(judgeHealth('{', T0).message, /not JSON/);
  assert.match(judgeHealth('{"state":"x"}', T0).message, /lacks/);
});

test('the healthcheck script exits 0 or 1 from $STATE_DIRECTORY/status.json', async () => {
  const dir = await tempDir();
  try {
    const run = (env: Record<string, string>): { status: number | null; stdout: string } => {
      const result = spawnSync(process.execPath, [...typescriptNodeFlags(), 'src/service/healthcheck.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...env },
        encoding: 'utf8',
      });
      return { status: result.status, stdout: result.stdout.trim() };
    };
    assert.deepEqual(run({ STATE_DIRECTORY: dir }), { status: 1, stdout: 'unhealthy: no status file yet: the agent has not started (or cannot write its state directory)' });

    const { logger } = captureLogs();
    const status = new StatusFile({ path: path.join(dir, 'status.json'), logger, timers: new FakeClock() });
    await status.update({ state: 'signed-in', healthy: true });
    const ok = run({ STATE_DIRECTORY: dir });
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /^healthy: signed-in, updated \d+ s ago$/);

    await status.stop();
    assert.deepEqual(run({ STATE_DIRECTORY: dir }), { status: 1, stdout: 'unhealthy: the agent has stopped' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
