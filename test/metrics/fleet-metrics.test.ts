import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FleetMetrics } from '../../src/metrics/fleet-metrics.js';
import { METRICS_FILE_NAME, TextfileWriter } from '../../src/metrics/textfile.js';
import type { JobRun } from '../../src/graph/jobs.js';
import { FakeClock } from '../support/fake-clock.js';
import { captureLogs } from '../graph/support.js';
import { requireTool } from './require-tool.js';

const ADELE = { homeAccountId: 'h', name: 'Adele Vance', username: 'AdeleV@contoso.onmicrosoft.com' };
const T0 = Date.parse('2026-12-06T10:00:00Z');

function run(job: string, ok: boolean, kind?: 'throttled'): JobRun {
  return {
    job, path: '/me', reason: 'scheduled', startedAt: new Date(T0).toISOString(), durationMs: 250, ok,
    result: ok ? { ok: true, status: 200, data: {}, attempts: 1 } : { ok: false, kind: kind ?? 'throttled', status: 429, message: 'slow down', attempts: 3 },
  };
}

function busyMetrics(includeAccount: boolean): FleetMetrics {
  const m = new FleetMetrics({ version: '0.1.0', jobs: ['me', 'manager'], includeAccount, now: () => T0 });
  m.stateChanged({ name: 'requesting-code', attempt: 1, renewals: 0 });
  m.stateChanged({ name: 'showing-code', attempt: 1, renewals: 0, offline: false, code: { userCode: 'ABC', verificationUri: 'https://x', expiresAt: T0, message: '' } as never });
  m.stateChanged({ name: 'requesting-code', attempt: 2, renewals: 1 });
  m.stateChanged({ name: 'signed-in', account: ADELE, lines: [], online: true, attempt: 2 });
  m.tokenSucceeded();
  m.jobFinished(run('me', true));
  m.jobFinished(run('manager', false, 'throttled'));
  m.jobFailedBeforeGraph('manager', 'needs-sign-in');
  m.displayResult(true);
  m.buttonResult(false);
  return m;
}

test('the metrics say state, sign-in, last successes, failures by kind, renewals, display and button, and no user data', () => {
  const text = busyMetrics(false).render();
  assert.match(text, /^graph_device_agent_state\{state="signed-in"\} 1$/m);
  assert.match(text, /^graph_device_agent_state\{state="showing-code"\} 0$/m);
  assert.match(text, /^graph_device_agent_signed_in 1$/m);
  assert.match(text, new RegExp(`^graph_device_agent_token_last_success_timestamp_seconds ${T0 / 1000}$`, 'm'));
  assert.match(text, new RegExp(`^graph_device_agent_job_last_success_timestamp_seconds\\{job="me"\\} ${(T0 + 250) / 1000}$`, 'm'));
  assert.match(text, /^graph_device_agent_job_failures_total\{job="manager",kind="throttled"\} 1$/m);
  assert.match(text, /^graph_device_agent_job_failures_total\{job="manager",kind="needs-sign-in"\} 1$/m);
  assert.match(text, /^graph_device_agent_job_runs_total\{job="manager",result="failed"\} 2$/m);
  assert.match(text, /^graph_device_agent_device_codes_issued_total 1$/m);
  assert.match(text, /^graph_device_agent_device_code_renewals_total 1$/m);
  assert.match(text, /^graph_device_agent_display_up 1$/m);
  assert.match(text, /^graph_device_agent_button_up 0$/m);
  assert.match(text, /^graph_device_agent_build_info\{version="0\.1\.0",nodejs="v\d+/m);
  assert.doesNotMatch(text, /Adele|contoso/i, 'no UPN, no name');
  assert.match(busyMetrics(true).render(), /^graph_device_agent_account_info\{account="AdeleV@contoso\.onmicrosoft\.com"\} 1$/m);
});

test('promtool accepts the file (names, types, help, units)', (t) => {
  if (!requireTool(t, 'promtool', 'prometheus')) return;
  for (const includeAccount of [false, true]) {
    const check = spawnSync('promtool', ['check', 'metrics'], { input: busyMetrics(includeAccount).render(), encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    assert.equal(`${check.stdout}${check.stderr}`.trim(), '', 'no lint remarks either');
  }
});

test('the file is replaced atomically, 0644 under the unit\'s UMask=0077, on change but at most every interval', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-metrics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const clock = new FakeClock(T0);
  let n = 0;
  const writer = new TextfileWriter({ directory: dir, render: () => `graph_device_agent_test ${++n}\n`, minIntervalMs: 15_000, logger: captureLogs('info').logger, timers: clock });
  const umask = process.umask(0o077);
  t.after(() => process.umask(umask));
  writer.changed();
  await writer.stop();
  const file = path.join(dir, METRICS_FILE_NAME);
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  const w2 = new TextfileWriter({ directory: dir, render: () => `graph_device_agent_test ${++n}\n`, minIntervalMs: 15_000, logger: captureLogs('info').logger, timers: clock });
  w2.changed(); // the first change is written at once
  const afterFirst = n;
  w2.changed();
  w2.changed();
  clock.advanceBy(14_999);
  assert.equal(n, afterFirst, 'nothing within the interval');
  clock.advanceBy(1);
  assert.equal(n, afterFirst + 1, 'the changes in between: one write when it ends');
  await w2.stop();
  assert.equal(await readFile(file, 'utf8'), `graph_device_agent_test ${n}\n`);
  assert.deepEqual(await readdir(dir), [METRICS_FILE_NAME], 'no temp file left behind');
});

test('a folder that is not there is logged once, not thrown', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-metrics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const logs = captureLogs('info');
  const writer = new TextfileWriter({ directory: path.join(dir, 'missing'), render: () => 'x 1\n', minIntervalMs: 0, logger: logs.logger });
  await writer.write();
  await writer.write();
  assert.equal(logs.events('metrics.write_failed').length, 1);
  assert.match(String(logs.events('metrics.write_failed')[0]!['msg']), /ENOENT/);
});
