import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../support/agent-harness.js';
import { captureLogs } from '../support/log-capture.js';
import { FakeClock } from '../support/fake-clock.js';
import { GraphThrottle } from '../../src/graph/throttle.js';

/**
 * One throttle for all of Graph: a 429 with Retry-After holds every job's requests, not only
 * the retry of the refused one; after the window the waiting requests go one at a time; the
 * window is logged once.
 */

const JOBS = [
  { name: 'me', schedule: '0 0 1 1 *', path: '/me', line: '{jobTitle}', timeoutSec: 10 },
  { name: 'manager', schedule: '0 0 1 1 *', path: '/me/manager', line: 'Manager: {displayName}', notFoundLine: 'No manager', timeoutSec: 10 },
  { name: 'me-again', schedule: '0 0 1 1 *', path: '/me?$select=displayName', line: '{displayName}', timeoutSec: 10 },
];

test('a 429 with Retry-After: no job calls Graph inside the window, each runs once after it, one log line', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  h.config.graph.jobs = JOBS;
  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  for (let waited = 0; h.logs.lines().filter((l) => l.event === 'graph.job' && l.ok === true).length < 3 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  const before = h.idp.requests.length;
  h.idp.faults.push({ endpoint: 'graph', status: 429, headers: { 'Retry-After': '2' }, match: (r) => r.path === '/v1.0/me', count: 1 });
  agent.button.press(); // every job now
  const okRuns = (): number => h.logs.lines().filter((l) => l.event === 'graph.job' && l.ok === true).length;
  for (let waited = 0; okRuns() < 6 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  assert.equal(okRuns(), 6, h.logs.lines().filter((l) => String(l.event).startsWith('graph')).map((l) => `${String(l.event)} ${String(l.msg)}`).join('\n'));
  const graph = h.idp.requests.slice(before).filter((r) => r.endpoint === 'graph');
  const refused = graph.find((r) => r.status === 429)!;
  const inWindow = graph.filter((r) => r.at > refused.at && r.at < refused.at + 2_000);
  assert.deepEqual(inWindow.map((r) => `${r.path} ${r.status}`), [], 'no Graph request inside the Retry-After window, from any job');
  const after = graph.filter((r) => r.at >= refused.at + 2_000);
  assert.ok(after.length >= 1, 'the held requests went after the window');
  const starts = after.map((r) => r.at).sort((a, b) => a - b);
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! >= 500, `not all at once: ${starts.map((s) => s - refused.at).join(', ')} ms after the 429`);
  const throttled = h.logs.lines().filter((l) => l.event === 'graph.throttled');
  assert.equal(throttled.length, 1, 'the throttle is logged once, not once per job');
  assert.equal(throttled[0]!.duration_ms, 2_000);
});

test('the throttle: one turn at a time', async () => {
  const clock = new FakeClock(0);
  const throttle = new GraphThrottle({ now: clock.now, logger: captureLogs('debug').logger, sleep: async () => undefined });
  const first = await throttle.acquire();
  let second = false;
  const next = throttle.acquire().then((end) => {
    second = true;
    end();
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(second, false, 'the second request waits for the first to end its turn');
  first();
  await next;
  assert.equal(second, true);
});

test('the throttle: a window holds every caller, releases them one at a time, and a caller that gives up leaves', async () => {
  const clock = new FakeClock(0);
  const logs = captureLogs('debug');
  const sleeps: Array<{ ms: number; signal?: AbortSignal; resolve: () => void; reject: (e: unknown) => void }> = [];
  const throttle = new GraphThrottle({
    now: clock.now,
    logger: logs.logger,
    spacingMs: 1_000,
    sleep: (ms, signal) => new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clock.clearTimeout(timer);
        reject(signal.reason);
      }, { once: true });
      sleeps.push({ ms, ...(signal ? { signal } : {}), resolve, reject });
    }),
  });
  (await throttle.acquire())(); // no window: at once, and the turn ends
  throttle.hold(5_000, { status: 429, job: 'me', path: '/me' });
  throttle.hold(3_000, { status: 429, job: 'manager', path: '/me/manager' }); // inside the first: no new line
  const released: string[] = [];
  const gaveUp = new AbortController();
  const a = throttle.acquire().then((end) => {
    released.push(`a@${clock.now()}`);
    end();
  });
  const b = throttle.acquire(gaveUp.signal).then(() => released.push('b'), () => released.push('b gave up'));
  const c = throttle.acquire().then((end) => {
    released.push(`c@${clock.now()}`);
    end();
  });
  await new Promise((r) => setImmediate(r));
  clock.advanceTo(4_999);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(released, [], 'nobody goes inside the window');
  gaveUp.abort(new Error('stopped'));
  await b;
  for (const t of [5_000, 6_000, 7_000]) {
    clock.advanceTo(t);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
  await Promise.all([a, c]);
  assert.deepEqual(released, ['b gave up', 'a@5000', 'c@6000'], 'one at a time after the window');
  assert.equal(logs.lines().filter((l) => l.event === 'graph.throttled').length, 1);
});

test('run now (a press, a fresh sign-in): at most two jobs at once, and a running job is joined, not started again', async () => {
  const { GraphJobs, RUN_NOW_AT_ONCE } = await import('../../src/graph/jobs.js');
  let inFlight = 0;
  let most = 0;
  const calls: string[] = [];
  const client = {
    get: async (path: string) => {
      calls.push(path);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight -= 1;
      return { ok: true as const, status: 200, data: { displayName: 'x' }, attempts: 1 };
    },
  };
  const jobs = new GraphJobs({
    client,
    jobs: Array.from({ length: 6 }, (_, i) => ({ name: `j${i}`, schedule: '0 0 1 1 *', path: `/p${i}`, line: '{displayName}', timeoutSec: 5 })),
    logger: captureLogs('debug').logger,
    onResult: () => undefined,
  });
  await Promise.all([jobs.runNow(), jobs.runNow()]); // two presses in a row
  assert.equal(most, RUN_NOW_AT_ONCE);
  assert.ok(calls.length <= 8, `${calls.length} calls for 6 jobs pressed twice: running jobs are joined`);
});
