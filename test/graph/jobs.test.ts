import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import nodeCron from 'node-cron';
import { HttpsClient } from '../../src/net/https.js';
import { GraphClient } from '../../src/graph/client.js';
import type { TokenProvider } from '../../src/graph/client.js';
import { DEFAULT_JOBS, GraphJobs, JobCancelledError, validateCron, validateJobs } from '../../src/graph/jobs.js';
import type { CronScheduler, CronTaskOptions, GraphJobSpec, JobRun } from '../../src/graph/jobs.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADELE, captureLogs, countingTokens, graphError, json, recordingSleep, startFakeGraph } from './support.js';
import type { FakeGraph, LogCapture } from './support.js';

/** Records the tasks; `fire` is node-cron reaching a slot: it calls the function, started or not. */
class FakeCron implements CronScheduler {
  readonly tasks = new Map<string, { expression: string; options: CronTaskOptions; fn: () => Promise<void>; started: boolean; destroyed: boolean }>();

  createTask(expression: string, fn: () => Promise<void>, options: CronTaskOptions) {
    const task = {
      expression, options, fn, started: false, destroyed: false,
      start: () => { task.started = true; },
      stop: () => { task.started = false; },
      destroy: () => { task.started = false; task.destroyed = true; },
    };
    this.tasks.set(options.name, task);
    return task;
  }

  task(job: string) {
    const task = this.tasks.get(`graph:${job}`);
    assert.ok(task, `no task for ${job}`);
    return task;
  }

  fire(job: string): Promise<void> {
    return this.task(job).fn();
  }
}

const MANAGER_404 = graphError('Request_ResourceNotFound', "Resource 'manager' does not exist or one of its queried reference-property objects are not present.");

describe('GraphJobs', () => {
  let graph: FakeGraph;
  let http: HttpsClient;
  let logs: LogCapture;
  let cron: FakeCron;
  let runs: JobRun[];
  let errors: Array<{ err: unknown; job: string }>;
  let jobs: GraphJobs | undefined;
  /** Requests the server holds until `releaseHeld()`: a slow Graph, to make runs overlap. */
  let held: Array<() => void>;

  before(async () => {
    graph = await startFakeGraph();
    http = new HttpsClient({ extraCaPem: graph.caPem });
  });
  after(async () => {
    http.close();
    await graph.close();
  });
  beforeEach(() => {
    graph.requests.length = 0;
    logs = captureLogs('info');
    cron = new FakeCron();
    runs = [];
    errors = [];
    held = [];
    graph.handle((req, res) => answer(req.url ?? '', res));
  });
  afterEach(async () => {
    releaseHeld();
    await jobs?.stop();
    jobs = undefined;
  });

  function answer(url: string, res: ServerResponse): void {
    if (url.endsWith('/me/manager')) json(res, 404, MANAGER_404, { 'request-id': 'rid-manager' });
    else json(res, 200, ADELE, { 'request-id': 'rid-me' });
  }

  function holdRequests(): void {
    graph.handle((req, res) => held.push(() => answer(req.url ?? '', res)));
  }

  function releaseHeld(): void {
    for (const release of held.splice(0)) release();
  }

  async function untilRequests(n: number): Promise<void> {
    while (graph.requests.length < n) await new Promise((r) => setImmediate(r));
  }

  function makeJobs(specs: readonly GraphJobSpec[] = DEFAULT_JOBS, tokens: TokenProvider = countingTokens(), scheduler: CronScheduler = cron): GraphJobs {
    const client = new GraphClient({
      http, baseUrl: graph.baseUrl, tokens, logger: logs.logger, sleep: recordingSleep().sleep, random: () => 0.5,
    });
    jobs = new GraphJobs({
      client, jobs: specs, logger: logs.logger, cron: scheduler,
      onResult: (run) => runs.push(run),
      onError: (err, job) => errors.push({ err, job }),
    });
    return jobs;
  }

  it('start() schedules every job paused, in UTC, without overlap', () => {
    makeJobs().start();
    assert.deepEqual([...cron.tasks.keys()], ['graph:me', 'graph:manager']);
    for (const task of cron.tasks.values()) {
      assert.equal(task.expression, '*/15 * * * *');
      assert.equal(task.started, false);
      assert.equal(task.options.timezone, 'UTC');
      assert.equal(task.options.noOverlap, true);
    }
  });

  it('does nothing on a tick while paused (signed out)', async () => {
    makeJobs().start();
    await cron.fire('me');
    await cron.fire('manager');
    assert.equal(graph.requests.length, 0);
    assert.deepEqual(runs, []);
  });

  it('after resume(), a tick calls Graph, renders the line, logs graph.job and reports the run', async () => {
    const j = makeJobs();
    j.start();
    j.resume();
    assert.equal(cron.task('me').started, true);
    await cron.fire('me');

    assert.equal(graph.requests.length, 1);
    assert.equal(runs.length, 1);
    const [run] = runs;
    assert.equal(run?.job, 'me');
    assert.equal(run?.reason, 'scheduled');
    assert.equal(run?.ok, true);
    assert.equal(run?.line, 'Retail Manager');

    const [line] = logs.events('graph.job');
    assert.equal(line?.['job'], 'me');
    assert.equal(line?.['ok'], true);
    assert.equal(line?.['status'], 200);
    assert.equal(line?.['request_id'], 'rid-me');
    assert.equal(line?.['line'], 'Retail Manager');
    assert.equal(typeof line?.['duration_ms'], 'number');
  });

  it('after pause(), ticks do nothing again', async () => {
    const j = makeJobs();
    j.start();
    j.resume();
    j.pause();
    assert.equal(cron.task('me').started, false);
    await cron.fire('me');
    assert.equal(graph.requests.length, 0);
    assert.deepEqual(runs, []);
  });

  it('runAllNow() runs each job exactly once, also while paused, and shows "No manager" for the 404', async () => {
    const j = makeJobs();
    j.start();
    const results = await j.runAllNow();

    assert.deepEqual(graph.requests.map((r) => r.path).sort(), ['/me', '/me/manager']);
    assert.deepEqual(results.map((r) => [r.job, r.ok, r.line, r.reason]), [
      ['me', true, 'Retail Manager', 'manual'],
      ['manager', true, 'No manager', 'manual'],
    ]);
    assert.equal(results[1]?.result.ok, false);
    assert.equal(runs.length, 2);
  });

  it('never runs a job twice at once: a manual run joins the scheduled one, a second tick is skipped', async () => {
    const j = makeJobs([DEFAULT_JOBS[0]!]);
    j.start();
    j.resume();
    holdRequests();
    const scheduled = cron.fire('me');
    await untilRequests(1);

    const manual = j.runAllNow();
    await cron.fire('me');
    releaseHeld();
    await scheduled;
    const [joined] = await manual;

    assert.equal(graph.requests.length, 1);
    assert.equal(runs.length, 1);
    assert.equal(joined, runs[0]);
    assert.equal(joined?.reason, 'scheduled');
    assert.equal(logs.events('graph.job.skipped').length, 1);
  });

  it('pause() cancels a run in flight: its answer never reaches onResult', async () => {
    const j = makeJobs([DEFAULT_JOBS[0]!]);
    j.start();
    holdRequests();
    const pending = j.runOne('me');
    await untilRequests(1);
    j.pause();
    await assert.rejects(pending, (err) => err instanceof JobCancelledError && err.why === 'paused');
    releaseHeld();
    assert.deepEqual(runs, []);
  });

  it('pause() also drops an answer that arrives after it (the previous account\'s data)', async () => {
    // A client that ignores the abort, as when the answer was already on its way.
    let answer: (() => void) | undefined;
    const lateClient = {
      get: () => new Promise<{ ok: true; status: number; data: unknown; attempts: number }>((resolve) => {
        answer = () => resolve({ ok: true, status: 200, data: ADELE, attempts: 1 });
      }),
    };
    jobs = new GraphJobs({ client: lateClient, jobs: [DEFAULT_JOBS[0]!], logger: logs.logger, cron, onResult: (run) => runs.push(run) });
    jobs.start();
    const pending = jobs.runOne('me');
    jobs.pause();
    answer?.();
    await assert.rejects(pending, JobCancelledError);
    assert.deepEqual(runs, []);
  });

  it('writes the output file atomically: a new file renamed over the old, complete JSON, private mode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graph-jobs-'));
    try {
      const outputFile = join(dir, 'me.json');
      await writeFile(outputFile, '{"old":true}\n');
      const before = await stat(outputFile);
      const j = makeJobs([{ ...DEFAULT_JOBS[0]!, outputFile }]);
      await j.runOne('me');

      const after = await stat(outputFile);
      assert.notEqual(after.ino, before.ino, 'replaced by rename, not rewritten in place');
      assert.equal(after.mode & 0o777, 0o600);
      assert.deepEqual(await readdir(dir), ['me.json'], 'no temporary file left behind');
      const written = JSON.parse(await readFile(outputFile, 'utf8')) as Record<string, unknown>;
      assert.equal(written['job'], 'me');
      assert.equal(written['ok'], true);
      assert.equal(written['line'], 'Retail Manager');
      assert.equal(written['requestId'], 'rid-me');
      assert.deepEqual(written['data'], ADELE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rewrites the output file only when the answer changes (the SD card wears with writes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graph-jobs-'));
    try {
      const outputFile = join(dir, 'me.json');
      const j = makeJobs([{ ...DEFAULT_JOBS[0]!, outputFile }]);
      await j.runOne('me');
      const first = await stat(outputFile);
      await j.runOne('me');
      assert.equal((await stat(outputFile)).ino, first.ino, 'the same answer again: the file is left as it is');

      graph.handle((_req, res) => json(res, 200, { ...ADELE, jobTitle: 'Store Manager' }));
      await j.runOne('me');
      assert.notEqual((await stat(outputFile)).ino, first.ino, 'a new answer: a new file');
      const written = JSON.parse(await readFile(outputFile, 'utf8')) as { line: string };
      assert.equal(written.line, 'Store Manager');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes a failed run to the output file too, so a reader can tell failed from stale', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graph-jobs-'));
    try {
      const outputFile = join(dir, 'sub', 'manager.json');
      graph.handle((_req, res) => json(res, 403, graphError('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')));
      const j = makeJobs([{ ...DEFAULT_JOBS[1]!, outputFile }]);
      const run = await j.runOne('manager');
      assert.equal(run.ok, false);
      assert.equal(run.line, undefined);
      const written = JSON.parse(await readFile(outputFile, 'utf8')) as { ok: boolean; error: { kind: string; message: string } };
      assert.equal(written.ok, false);
      assert.equal(written.error.kind, 'forbidden');
      assert.match(written.error.message, /User\.Read\.All/);
      assert.equal(logs.events('graph.job')[0]?.['level'], 'warn');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hands a token error of a scheduled run to onError, and rejects runOne with it', async () => {
    const needsSignIn = new Error('needs sign-in');
    const j = makeJobs([DEFAULT_JOBS[0]!], { getAccessToken: () => Promise.reject(needsSignIn) });
    j.start();
    j.resume();
    await cron.fire('me');
    assert.deepEqual(errors, [{ err: needsSignIn, job: 'me' }]);
    await assert.rejects(j.runOne('me'), (err) => err === needsSignIn);
    assert.equal(graph.requests.length, 0);
    assert.deepEqual(runs, []);
  });

  it('refuses an unknown job name and an invalid job list', async () => {
    const j = makeJobs();
    await assert.rejects(j.runOne('calendar'), /no Graph job named "calendar" \(there are: me, manager\)/);
    assert.throws(() => makeJobs([{ ...DEFAULT_JOBS[0]!, schedule: 'every 15 minutes' }]), /invalid Graph jobs/);
  });

  it('runs on a real node-cron schedule and leaves no task behind after stop()', async () => {
    const j = makeJobs([{ ...DEFAULT_JOBS[0]!, schedule: '* * * * * *' }], countingTokens(), nodeCron);
    const first = new Promise<JobRun>((resolve) => {
      const original = runs.push.bind(runs);
      runs.push = (...items: JobRun[]) => {
        resolve(items[0]!);
        return original(...items);
      };
    });
    j.start();
    j.resume();
    const run = await first;
    assert.equal(run.reason, 'scheduled');
    assert.equal(run.line, 'Retail Manager');
    await j.stop();
    assert.ok(![...nodeCron.getTasks().values()].some((t) => t.name === 'graph:me'));
  });

  it('with a splay, a tick calls Graph that long after the slot; pause() and stop() drop a waiting tick', async () => {
    const clock = new FakeClock(0);
    const client = new GraphClient({ http, baseUrl: graph.baseUrl, tokens: countingTokens(), logger: logs.logger, sleep: recordingSleep().sleep, random: () => 0.5 });
    const j = new GraphJobs({
      client, jobs: [DEFAULT_JOBS[0]!], logger: logs.logger, cron, timers: clock,
      splayMs: () => 137_000, onResult: (run) => runs.push(run),
    });
    jobs = j;
    j.start();
    assert.equal(j.splayOf('me'), 137_000);
    assert.deepEqual(logs.events('graph.jobs.started')[0]?.['splay_s'], { me: 137 });
    j.resume();
    await cron.fire('me');
    clock.advanceBy(136_999);
    assert.equal(graph.requests.length, 0, 'nothing before the splay');
    clock.advanceBy(1);
    await untilRequests(1);
    while (runs.length < 1) await new Promise((r) => setImmediate(r));
    assert.equal(runs[0]!.reason, 'scheduled');

    await cron.fire('me');
    j.pause();
    j.resume();
    clock.advanceBy(200_000);
    await cron.fire('me');
    await j.stop();
    clock.advanceBy(200_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(graph.requests.length, 1, 'the ticks waiting at pause() and stop() never called Graph');
  });
});

describe('validateCron and validateJobs', () => {
  it('accepts the default schedule and explains a wrong one', () => {
    assert.equal(validateCron('*/15 * * * *'), undefined);
    assert.equal(validateCron('0 30 8 * * 1-5'), undefined);
    assert.match(validateCron('every 15 minutes') ?? '', /is not a cron expression/);
    assert.match(validateCron('61 * * * *') ?? '', /minute/);
    assert.match(validateCron('*/15 * * *') ?? '', /5 or 6 fields/);
  });

  it('finds every problem of a job list at once', () => {
    assert.deepEqual(validateJobs(DEFAULT_JOBS), []);
    const problems = validateJobs([
      { name: 'me', schedule: '*/15 * * * *', path: 'me', line: '{displayName', timeoutSec: 0 },
      { name: 'me', schedule: 'often', path: '/me', timeoutSec: 10 },
    ]);
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.ok(problems.some((p) => /must start with "\/"/.test(p)));
    assert.ok(problems.some((p) => /line: unclosed/.test(p)));
    assert.ok(problems.some((p) => /timeoutSec/.test(p)));
    assert.ok(problems.some((p) => /used twice/.test(p)));
    assert.ok(problems.some((p) => /"often" is not a cron expression/.test(p)));
  });
});
