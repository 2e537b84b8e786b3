import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness, type RunningAgent } from '../support/agent-harness.js';
import type { IdentityEmulatorOptions } from '../support/identity-emulator/index.js';
import type { LogLine } from '../support/log-capture.js';
import { decodeAll } from '../display/decode-text.js';
import { loadConfigFile, parseConfig, type GraphJobConfig } from '../../src/config/index.js';
import { defaultWorkload, workloadRoutes } from '../support/identity-emulator/graph.js';

/**
 * Graph jobs end to end: the real agent (harness) → the real GraphClient → HTTPS → the identity
 * emulator's Graph, with faults injected there. Assertions are on what a person or an operator
 * sees: the requests Graph got (and when), the log, and the text on the display.
 *
 * Jobs run on real node-cron. Most tests give them a yearly schedule, so the only runs are the one
 * right after sign-in and those the test asks for; the schedule tests tick every second. The
 * GraphClient keeps its production retry policy: with Retry-After values of 1-2 s and single
 * faults, its waits fit the time a test may take, so nothing had to be made configurable.
 */

const CONFIG_DIR = path.resolve(import.meta.dirname, '../../config');
/** 1 January, 00:00 UTC: no tick while a test runs. */
const YEARLY = '0 0 1 1 *';
const EVERY_SECOND = '* * * * * *';
const ME: GraphJobConfig = { name: 'me', schedule: YEARLY, path: '/me', line: '{jobTitle}', timeoutSec: 5 };
const MANAGER: GraphJobConfig = { name: 'manager', schedule: YEARLY, path: '/me/manager', line: 'Manager: {displayName}', notFoundLine: 'No manager', timeoutSec: 5 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function harnessWithJobs(t: TestContext, jobs: GraphJobConfig[], options: { emulator?: IdentityEmulatorOptions; scopes?: string[] } = {}): Promise<Harness> {
  const h = await startHarness({
    ...(options.emulator ? { emulator: options.emulator } : {}),
    ...(options.scopes ? { config: { auth: { scopes: options.scopes } } } : {}),
  });
  t.after(() => h.close());
  // The harness's config points at this emulator; the jobs are set before an agent reads it.
  h.config.graph.jobs = jobs;
  return h;
}

/** Starts the agent and approves its code as the person would; resolves once signed in. */
async function signIn(h: Harness): Promise<RunningAgent> {
  const agent = await h.startAgent();
  h.idp.approve((await bounded('a device code', h.idp.waitForDeviceCode())).userCode);
  await bounded('state signed-in', agent.waitFor('signed-in'));
  return agent;
}

/** `promise`, or a failure naming `what` if it has not settled in time (instead of a hung test). */
async function bounded<T>(what: string, promise: Promise<T>, limitMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never happened: ${what}`)), limitMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `check` holds; fails with `what` rather than hanging when it never does. */
async function until(what: string, check: () => boolean, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await sleep(20);
  }
}

function graphRequests(h: Harness, graphPath: string): Harness['idp']['requests'] {
  return h.idp.requests.filter((r) => r.endpoint === 'graph' && r.path === `/v1.0${graphPath}`);
}

/** Finished runs of a job (not cancelled ones), from the `graph.job` log lines. */
function runs(h: Harness, job: string): LogLine[] {
  return h.logs.lines().filter((l) => l.event === 'graph.job' && l.job === job && l.cancelled === undefined);
}

function logLines(h: Harness, event: string, job?: string): LogLine[] {
  return h.logs.lines().filter((l) => l.event === event && (job === undefined || l.job === job));
}

function screenText(agent: RunningAgent): string {
  const frame = agent.display.last;
  return frame ? decodeAll(frame).map((r) => r.text).join(' | ') : '';
}

async function screenShows(agent: RunningAgent, pattern: RegExp): Promise<string> {
  await until(`the screen shows ${pattern} (it shows "${screenText(agent)}")`, () => pattern.test(screenText(agent)));
  return screenText(agent);
}

function linesOf(agent: RunningAgent): string[] {
  const s = agent.app.agent.state;
  return s.name === 'signed-in' ? s.lines.map((l) => l.line) : [];
}

test('every example config loads, and its jobs put their lines on the screen with only the scopes it asks for', async (t) => {
  const files = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.example.json')).sort();
  for (const name of ['jobs-calendar.example.json', 'jobs-presence.example.json', 'jobs-unread.example.json', 'config.full.example.json']) {
    assert.ok(files.includes(name), `config/${name} exists`);
  }
  const expected: Record<string, string> = {
    me: 'Retail Manager',
    // The stand-up is at the next half hour, in the zone the example is loaded with (the device's).
    'next-event': 'Next: \\d\\d:[03]0 Team stand-up',
    presence: 'Status: Available',
    unread: 'Unread mail: 3',
  };
  for (const file of files) {
    // Throws a ConfigError naming the problem when an example does not pass the loader.
    const example = loadConfigFile(path.join(CONFIG_DIR, file), {});
    if (!example.graph.jobs) continue; // the defaults: covered by signin.test.ts
    await t.test(file, async (st) => {
      const jobs = example.graph.jobs ?? [];
      // Graph answers 403 for a scope the example forgot to ask for, as Entra would.
      const h = await harnessWithJobs(st, [], { emulator: { enforceGraphScopes: true }, scopes: example.auth.scopes });
      h.config.graph.jobs = jobs.map((j) => ({ ...j, ...(j.outputFile ? { outputFile: path.join(h.dir, path.basename(j.outputFile)) } : {}) }));
      const agent = await signIn(h);
      await until(`every job of ${file} has its line`, () => linesOf(agent).length === jobs.length);
      const lines = linesOf(agent);
      jobs.forEach((j, i) => assert.match(lines[i] ?? '', new RegExp(`^${expected[j.name]}$`), 'the lines, in configured order'));
      // "Next: 10:30 Team stand-up" is longer than the panel: the screen shows it shortened with "…".
      const onScreen = (pattern: string): RegExp => new RegExp(pattern.replace(' stand-up', ' st'));
      for (const j of jobs) assert.match(await screenShows(agent, onScreen(expected[j.name]!)), /Adele Vance/);
      for (const j of h.config.graph.jobs.filter((x) => x.outputFile)) {
        const written = JSON.parse(await readFile(j.outputFile!, 'utf8')) as { ok: boolean; line: string; data: unknown };
        assert.equal(written.ok, true, `${j.name}'s output file has the last result`);
        assert.match(written.line, new RegExp(`^${expected[j.name]}$`));
        assert.equal(typeof written.data, 'object');
      }
    });
  }
});

test('calendar paths answer as Graph does: $orderby, $top, $select, paging, and a view needs its window', async (t) => {
  const h = await harnessWithJobs(t, []);
  const outputFile = path.join(h.dir, 'first-two.json');
  h.config.graph.jobs = [
    { name: 'latest', schedule: YEARLY, path: '/me/events?$orderby=start/dateTime%20desc&$top=1&$select=subject', line: '{value.0.subject}', timeoutSec: 5 },
    { name: 'first-two', schedule: YEARLY, path: '/me/events?$orderby=subject&$top=2&$select=subject,start', line: '{value.0.subject} + {value.1.subject}', outputFile, timeoutSec: 5 },
    { name: 'no-window', schedule: YEARLY, path: '/me/calendarView?$top=1', line: '{value.0.subject}', timeoutSec: 5 },
  ];
  const agent = await signIn(h);
  await until('two jobs have their lines', () => linesOf(agent).length === 2);
  await until('the third job ran', () => runs(h, 'no-window').length === 1);

  assert.deepEqual(linesOf(agent), ['Product launch', '1:1 with Megan Bowen + Product launch']);
  const written = JSON.parse(await readFile(outputFile, 'utf8')) as { data: { value: Array<Record<string, unknown>>; '@odata.nextLink'?: string } };
  assert.deepEqual(Object.keys(written.data.value[0]!), ['@odata.etag', 'id', 'subject', 'start']);
  assert.match(String((written.data.value[0]!['start'] as { dateTime: string }).dateTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$/);
  assert.match(written.data['@odata.nextLink'] ?? '', /\$skip=2/, 'more than $top: a next link');
  const [noWindow] = runs(h, 'no-window');
  assert.equal(noWindow!.status, 400);
  assert.equal(noWindow!.code, 'ErrorInvalidParameter');
  assert.equal(noWindow!.attempts, 1, 'a 400 is not retried');
});

test('calendar times come in the configured zone: Graph is asked with Prefer: outlook.timezone, and the line shows local time', async (t) => {
  const preferSeen: unknown[] = [];
  // 05:00 UTC is 10:30 in Kolkata (UTC+5:30): the minutes show the zone was applied, not guessed.
  const start = Date.UTC(2025, 2, 14, 5, 0);
  const workload = workloadRoutes({
    workload: (user, now, ctx) => {
      preferSeen.push(ctx.headers?.['prefer']);
      return { ...defaultWorkload(user, now, ctx), events: [{ id: 'e1', subject: 'Stand-up', start, end: start + 900_000, organizer: { name: 'Megan Bowen', address: 'megan@example.com' } }] };
    },
  });
  const h = await startHarness({ emulator: { graphRoutes: workload }, config: { graph: { timeZone: 'Asia/Kolkata' } } });
  t.after(() => h.close());
  const outputFile = path.join(h.dir, 'next.json');
  h.config.graph.jobs = [{
    name: 'next', schedule: YEARLY, path: '/me/events?$top=1&$select=subject,start', outputFile, timeoutSec: 5,
    line: 'Next: {value.0.start.dateTime|time} {value.0.subject}',
  }];
  const agent = await signIn(h);
  await until('the line', () => linesOf(agent).length === 1);
  assert.deepEqual(linesOf(agent), ['Next: 10:30 Stand-up']);
  assert.deepEqual(preferSeen, ['outlook.timezone="Asia/Kolkata"']);
  const written = JSON.parse(await readFile(outputFile, 'utf8')) as { data: { value: Array<{ start: { dateTime: string; timeZone: string } }> } };
  assert.deepEqual(written.data.value[0]!.start, { dateTime: '2025-03-14T10:30:00.0000000', timeZone: 'Asia/Kolkata' });
  await screenShows(agent, /Next: 10:30 Stand-up/);
});

test('without graph.timeZone the device\'s zone is asked for (TZ), UTC when it has none', () => {
  const base = { auth: { clientId: 'x' } };
  assert.equal(parseConfig(base, { env: { TZ: 'Europe/Berlin' } }).graph.timeZone, 'Europe/Berlin');
  assert.equal(parseConfig(base, { env: { TZ: ':Asia/Tokyo' } }).graph.timeZone, 'Asia/Tokyo');
  assert.equal(parseConfig({ ...base, graph: { timeZone: 'W. Europe Standard Time' } }, { env: {} }).graph.timeZone, 'W. Europe Standard Time');
  assert.throws(() => parseConfig({ ...base, graph: { timeZone: 'UTC"\r\nX-Evil: 1' } }, { env: {} }), /graph\.timeZone/);
});

test('each run sends a client-request-id and logs job, status, duration and Graph\'s request-id; bodies only at debug', async (t) => {
  const h = await harnessWithJobs(t, [ME, MANAGER]);
  const sent: string[] = [];
  // A fault that never applies: it only sees every Graph request's headers.
  h.idp.faults.push({ endpoint: 'graph', delayMs: 0, count: Infinity, match: (r) => {
    sent.push(String(r.headers['client-request-id']));
    return false;
  } });
  await signIn(h);
  await until('both jobs ran', () => runs(h, 'me').length > 0 && runs(h, 'manager').length > 0);

  const requests = logLines(h, 'graph.request');
  assert.equal(requests.length, 2);
  for (const r of requests) {
    assert.match(String(r.client_request_id), UUID);
    assert.ok(sent.includes(String(r.client_request_id)), 'the logged client-request-id is the one sent');
    assert.match(String(r.request_id), UUID, 'Graph\'s request-id is logged');
    assert.equal(r.status, 200);
    assert.equal(typeof r.duration_ms, 'number');
    assert.ok(r.job === 'me' || r.job === 'manager');
  }
  for (const run of [...runs(h, 'me'), ...runs(h, 'manager')]) {
    assert.equal(run.status, 200);
    assert.equal(typeof run.duration_ms, 'number');
    assert.match(String(run.request_id), UUID);
  }
  // Adele's office is only in the /me body, never on a screen line: debug lines only.
  const withBody = h.logs.lines().filter((l) => JSON.stringify(l).includes('18/2111'));
  assert.ok(withBody.length > 0, 'at debug level the body is logged');
  assert.deepEqual([...new Set(withBody.map((l) => l.level))], ['debug']);
  assert.deepEqual([...new Set(withBody.map((l) => l.event))], ['graph.response']);
});

test('429: the retry waits for Retry-After, in seconds or as an HTTP date, then the lines appear', async (t) => {
  const h = await harnessWithJobs(t, [ME, MANAGER]);
  const retryAt = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000).toUTCString();
  h.idp.faults.push(
    { endpoint: 'graph', status: 429, headers: { 'Retry-After': '1' }, match: (r) => r.path === '/v1.0/me' },
    { endpoint: 'graph', status: 429, headers: { 'Retry-After': retryAt }, match: (r) => r.path === '/v1.0/me/manager' },
  );
  const agent = await signIn(h);
  await until('both jobs answered', () => linesOf(agent).length === 2);

  const me = graphRequests(h, '/me');
  assert.deepEqual(me.map((r) => r.status), [429, 200]);
  assert.ok(me[1]!.at - me[0]!.at >= 1000, `retried ${me[1]!.at - me[0]!.at} ms after a 429 that asked for 1 s`);
  const manager = graphRequests(h, '/me/manager');
  assert.deepEqual(manager.map((r) => r.status), [429, 200]);
  assert.ok(manager[1]!.at >= Date.parse(retryAt), `retried ${Date.parse(retryAt) - manager[1]!.at} ms before the Retry-After date`);

  const retries = logLines(h, 'graph.retry');
  assert.deepEqual(retries.map((l) => l.retry_after), [true, true]);
  assert.deepEqual(runs(h, 'me').map((l) => l.attempts), [2]);
  assert.deepEqual(linesOf(agent), ['Retail Manager', 'Manager: Megan Bowen']);
});

test('503 then success retries after at least the base delay; other 5xx back off exponentially, with jitter', async (t) => {
  const h = await harnessWithJobs(t, [ME, MANAGER]);
  h.idp.faults.push(
    { endpoint: 'graph', status: 503, match: (r) => r.path === '/v1.0/me' },
    { endpoint: 'graph', status: 500, match: (r) => r.path === '/v1.0/me/manager' },
    { endpoint: 'graph', status: 502, contentType: 'application/json', body: { error: { code: 'badGateway', message: 'Bad gateway' } }, match: (r) => r.path === '/v1.0/me/manager' },
  );
  const agent = await signIn(h);
  await until('both jobs answered', () => linesOf(agent).length === 2);

  assert.deepEqual(graphRequests(h, '/me').map((r) => r.status), [503, 200]);
  assert.deepEqual(graphRequests(h, '/me/manager').map((r) => r.status), [500, 502, 200]);
  const meRetry = logLines(h, 'graph.retry', 'me');
  assert.equal(meRetry.length, 1);
  assert.equal(meRetry[0]!.reason, 'HTTP 503');
  assert.ok(Number(meRetry[0]!.delay_ms) >= 1000, 'a 503 is never retried at once');
  const managerRetries = logLines(h, 'graph.retry', 'manager').map((l) => Number(l.delay_ms));
  assert.equal(managerRetries.length, 2);
  assert.ok(managerRetries[0]! <= 1000 && managerRetries[1]! <= 2000, `back-off within 1 s, then 2 s: ${managerRetries.join(', ')}`);
  assert.deepEqual(runs(h, 'me').map((l) => l.attempts), [2]);
  assert.deepEqual(runs(h, 'manager').map((l) => l.attempts), [3]);
  assert.deepEqual(linesOf(agent), ['Retail Manager', 'Manager: Megan Bowen']);
});

test('401 then success: one forced token refresh, then the retry', async (t) => {
  const h = await harnessWithJobs(t, [ME]);
  h.idp.faults.push({ endpoint: 'graph', status: 401, match: (r) => r.path === '/v1.0/me' });
  const agent = await signIn(h);
  await until('the job answered', () => linesOf(agent).length === 1);

  assert.deepEqual(graphRequests(h, '/me').map((r) => r.status), [401, 200]);
  const refreshes = h.idp.requests.filter((r) => r.grantType === 'refresh_token');
  assert.equal(refreshes.length, 1, 'exactly one refresh');
  const me = graphRequests(h, '/me');
  assert.ok(refreshes[0]!.at >= me[0]!.at && refreshes[0]!.at <= me[1]!.at, 'the refresh came between the two calls');
  assert.equal(logLines(h, 'graph.token_refresh', 'me').length, 1);
  assert.deepEqual(runs(h, 'me').map((l) => l.attempts), [2]);
  assert.deepEqual(linesOf(agent), ['Retail Manager']);
});

test('403: the log names the missing permission, and so does the screen', async (t) => {
  // A real refusal: the app asked for User.Read only; /me/manager needs User.Read.All.
  const h = await harnessWithJobs(t, [MANAGER], { emulator: { enforceGraphScopes: true }, scopes: ['User.Read'] });
  const agent = await signIn(h);
  await until('the job ran', () => runs(h, 'manager').length === 1);

  assert.deepEqual(graphRequests(h, '/me/manager').map((r) => r.status), [403], 'no retry of a 403');
  const [run] = runs(h, 'manager');
  assert.equal(run!.level, 'warn');
  assert.equal(run!.kind, 'forbidden');
  assert.equal(run!.code, 'Authorization_RequestDenied');
  assert.match(String(run!.message), /User\.Read\.All/);
  assert.match(String(run!.message), /auth\.scopes/);
  const text = await screenShows(agent, /Needs User\.Read\.All/);
  assert.match(text, /Adele Vance/, 'still signed in');
});

test('an HTML body (a captive portal) is reported as not JSON, and the screen says offline', async (t) => {
  const h = await harnessWithJobs(t, [ME]);
  h.idp.faults.push({
    endpoint: 'graph', status: 200, contentType: 'text/html; charset=utf-8',
    body: '<!DOCTYPE html><html><head><title>Guest Wi-Fi</title></head><body>Accept the terms to continue</body></html>',
    match: (r) => r.path === '/v1.0/me',
  });
  const agent = await signIn(h);
  await until('the job ran', () => runs(h, 'me').length === 1);

  const [run] = runs(h, 'me');
  assert.equal(run!.kind, 'not-json');
  assert.match(String(run!.message), /text\/html, not JSON/);
  assert.equal(run!.attempts, 1);
  assert.deepEqual(linesOf(agent), [], 'the portal\'s page is not taken for data');
  assert.match(await screenShows(agent, /Offline/), /Adele Vance/);
});

test('a request that takes longer than the job\'s timeout is abandoned and retried', async (t) => {
  const h = await harnessWithJobs(t, [{ ...ME, timeoutSec: 0.5 }]);
  h.idp.faults.push({ endpoint: 'graph', delayMs: 1500, match: (r) => r.path === '/v1.0/me' });
  const agent = await signIn(h);
  await until('the job answered', () => linesOf(agent).length === 1);

  const attempts = logLines(h, 'graph.request', 'me');
  assert.equal(attempts[0]!.failure, 'timeout');
  assert.equal(attempts[0]!.level, 'info', 'a retried attempt is not a warning: the job line says how it ended');
  assert.equal(attempts[1]!.status, 200);
  assert.equal(logLines(h, 'graph.retry', 'me')[0]!.reason, 'timeout');
  assert.deepEqual(runs(h, 'me').map((l) => l.attempts), [2]);
  assert.deepEqual(linesOf(agent), ['Retail Manager']);
});

test('interaction required (access token expired, refresh token revoked): back to a device code', async (t) => {
  let skewMs = 0;
  const h = await harnessWithJobs(t, [ME], { emulator: { now: () => Date.now() + skewMs } });
  const agent = await signIn(h);
  await until('the job answered', () => linesOf(agent).length === 1);
  const firstCode = h.idp.requests.filter((r) => r.endpoint === 'devicecode')[0]!.userCode;

  skewMs = 2 * 3600_000; // the server's clock: the access token has expired
  assert.ok(h.idp.revokeRefreshTokens() > 0);
  agent.button.press(); // run the jobs now

  const state = await bounded('state showing-code', agent.waitFor('showing-code'));
  const newCode = state.name === 'showing-code' ? state.code.userCode : '';
  assert.notEqual(newCode, firstCode);
  assert.deepEqual(graphRequests(h, '/me').map((r) => r.status), [200, 401], 'Graph refused the expired token; no retry without a token');
  assert.equal(logLines(h, 'token.needs_sign_in').length, 1);
  await screenShows(agent, new RegExp(newCode));
});

test('jobs run once right after sign-in, then on schedule, and never overlap themselves', async (t) => {
  const h = await harnessWithJobs(t, [{ ...ME, schedule: EVERY_SECOND }]);
  // The run right after sign-in is slow: the ticks during it must not start a second one.
  h.idp.faults.push({ endpoint: 'graph', delayMs: 2500, match: (r) => r.path === '/v1.0/me' });
  const agent = await signIn(h);
  await until('a scheduled run finished', () => runs(h, 'me').some((l) => l.reason === 'scheduled'));
  await agent.stop();

  const [first, ...rest] = runs(h, 'me');
  assert.equal(first!.reason, 'manual', 'the first run is the one right after sign-in');
  assert.ok(rest.length > 0 && rest.every((l) => l.reason === 'scheduled'));
  assert.ok(logLines(h, 'graph.job.skipped', 'me').length > 0, 'ticks during the slow run were skipped');
  const me = graphRequests(h, '/me');
  assert.ok(me[1]!.at - me[0]!.at >= 2500, 'no second request while the first was unanswered');
});

test('jobs pause while signed out: no Graph requests after signing out, whatever the schedule says', async (t) => {
  const h = await harnessWithJobs(t, [{ ...ME, schedule: EVERY_SECOND }]);
  const agent = await signIn(h);
  await until('a scheduled run finished', () => runs(h, 'me').some((l) => l.reason === 'scheduled'));

  // Signing out is a hold, then a press to confirm.
  agent.button.hold();
  await bounded('state confirm-sign-out', agent.waitFor('confirm-sign-out'));
  agent.button.press();
  await bounded('state needs-press', agent.waitFor('needs-press'));
  await sleep(100); // a request sent just before the hold may still be arriving
  const before = graphRequests(h, '/me').length;
  await sleep(1500); // at least one tick of the every-second schedule
  assert.equal(graphRequests(h, '/me').length, before, 'no Graph request while signed out');
  assert.equal(logLines(h, 'graph.jobs.paused').length, 1);
  await screenShows(agent, /Signed out/);
});

test('a press while signed in runs the jobs now and shows the new answer', async (t) => {
  const h = await harnessWithJobs(t, [ME, MANAGER]);
  const agent = await signIn(h);
  await until('both jobs answered', () => linesOf(agent).length === 2);
  assert.equal(graphRequests(h, '/me').length, 1, 'one run right after sign-in');

  h.idp.users[0]!.jobTitle = 'Store Director';
  agent.button.press();
  await screenShows(agent, /Store Director/);
  // Graph requests go one at a time (graph/throttle.ts): the manager's may still be on its way.
  await until('the manager job ran again', () => graphRequests(h, '/me/manager').length === 2);
  assert.equal(graphRequests(h, '/me').length, 2);
  assert.deepEqual(linesOf(agent), ['Store Director', 'Manager: Megan Bowen']);
});
