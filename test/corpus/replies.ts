import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness, type RunningAgent } from '../support/agent-harness.js';
import type { Fault, FaultEndpoint, IdentityEmulatorOptions } from '../support/identity-emulator/index.js';
import type { LogLine } from '../support/log-capture.js';
import type { State } from '../../src/agent/machine.js';

/**
 * The bad-reply corpus: what a hotel Wi-Fi, a broken proxy or an overloaded server sends instead
 * of a proper answer, at every place the agent talks to the network: OpenID discovery, the device
 * code request, a poll of the token endpoint, a token refresh and a Graph call. Each is a fault in
 * the identity emulator, served once, to the real agent (msal-node, the HTTPS client, the Graph
 * client) over HTTPS:
 *   - truncated JSON (a 200 cut off mid-body),
 *   - the wrong content type (a captive portal's HTML page, with 200),
 *   - a huge body (5 MB, past the client's 4 MB limit),
 *   - a slow server that never answers (the configured 2 s timeout must end the wait).
 * Each must be handled without a crash or an unhandled rejection, leave the agent in a state a
 * person can act on, and let it recover by itself or with one press once the network behaves.
 *
 * replies.test.ts (npm test) serves one malformation at each place, every kind at least once;
 * replies.long.test.ts (npm run test:long) serves every malformation at every place.
 */

export type Malformation = 'truncated JSON' | 'HTML instead of JSON' | 'a 5 MB body' | 'no answer';
/** Where the agent meets the network, in the order it does. */
export type Place = 'openid' | 'devicecode' | 'poll' | 'refresh' | 'graph';
export const MALFORMATIONS: Malformation[] = ['truncated JSON', 'HTML instead of JSON', 'a 5 MB body', 'no answer'];
export const PLACES: Place[] = ['openid', 'devicecode', 'poll', 'refresh', 'graph'];
const TIMEOUT_SEC = 2;

function fault(endpoint: FaultEndpoint, kind: Malformation, match?: Fault['match']): Fault {
  const base = { endpoint, ...(match ? { match } : {}) };
  switch (kind) {
    case 'truncated JSON':
      return { ...base, status: 200, contentType: 'application/json; charset=utf-8', body: '{"token_type":"Bearer","scope":"User.Read","expires_in":3599,"access_tok' };
    case 'HTML instead of JSON':
      return { ...base, status: 200, contentType: 'text/html; charset=utf-8', body: '<!DOCTYPE html><html><body><h1>Welcome to Hotel Wi-Fi</h1><a href="/login">Accept the terms</a></body></html>' };
    case 'a 5 MB body':
      return { ...base, status: 200, contentType: 'application/json', body: `{"padding":"${'x'.repeat(5 * 1024 * 1024)}"}` };
    case 'no answer':
      return { ...base, delayMs: Infinity };
  }
}

const isPoll: Fault['match'] = (r) => r.grantType === 'device_code' || r.grantType === 'urn:ietf:params:oauth:grant-type:device_code';
const isRefresh: Fault['match'] = (r) => r.grantType === 'refresh_token';

/** Jobs that run only when asked (after sign-in, on a press): a yearly schedule. */
const JOBS = [
  { name: 'me', schedule: '0 0 1 1 *', path: '/me', line: '{jobTitle}', timeoutSec: TIMEOUT_SEC },
  { name: 'manager', schedule: '0 0 1 1 *', path: '/me/manager', line: 'Manager: {displayName}', notFoundLine: 'No manager', timeoutSec: TIMEOUT_SEC },
];

async function harness(t: TestContext, emulator: IdentityEmulatorOptions = {}): Promise<Harness> {
  const h = await startHarness({
    emulator: { intervalSec: 0.05, ...emulator },
    config: { network: { timeoutSec: TIMEOUT_SEC }, signIn: { minPollIntervalSec: 0.05, offlineRetryMaxSec: 0.5, autoRenewCodes: 1 } },
  });
  h.config.graph.jobs = JOBS;
  t.after(() => h.close());
  return h;
}

/** No unhandled rejection while `body` runs (and a moment after). */
async function withoutUnhandledRejections(body: () => Promise<void>): Promise<void> {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    await body();
    await sleep(50);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  assert.deepEqual(rejections.map(String), [], 'no unhandled promise rejection');
}

async function until(what: string, check: () => boolean, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await sleep(10);
  }
}

function linesSince(h: Harness, mark: number): LogLine[] {
  return h.logs.lines().slice(mark);
}

async function signIn(h: Harness): Promise<RunningAgent> {
  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  await until('the first Graph runs', () => h.logs.lines().filter((l) => l.event === 'graph.job').length >= 2);
  return agent;
}

const GRAPH_EXPECTATIONS: Record<Malformation, { failsFirst: boolean; said: RegExp }> = {
  // Unreadable answers are reported, not retried at once (the next run tries again).
  'truncated JSON': { failsFirst: true, said: /JSON that does not parse \(cut off\?\)/ },
  'HTML instead of JSON': { failsFirst: true, said: /text\/html.*not JSON: a proxy or captive portal\?/ },
  // No usable answer at all: the client's own retry covers one.
  'a 5 MB body': { failsFirst: false, said: /larger than 4194304 bytes/ },
  'no answer': { failsFirst: false, said: /no response from .* within 2000 ms/ },
};

/** Defines a test for each place and malformation that `include` picks. */
export function defineReplyTests(include: (place: Place, kind: Malformation) => boolean): void {
  for (const kind of MALFORMATIONS) {
    if (include('openid', kind)) test(`OpenID discovery answers with ${kind}: "Offline" on the screen, and a press signs in`, async (t) => {
      const h = await harness(t);
      h.idp.faults.push(fault('openid', kind));
      await withoutUnhandledRejections(async () => {
        const agent = await h.startAgent();
        const stuck = await agent.waitFor('needs-press');
        assert.equal(stuck.name === 'needs-press' && stuck.problem.title, 'Offline', 'the screen says what is wrong');
        assert.ok(h.logs.lines().some((l) => l.event === 'signin.failed' && l.kind === 'offline'), 'the log says it too');
        assert.equal(h.idp.faults.length, 0, 'the fault was served');
        agent.button.press();
        h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
        await agent.waitFor('signed-in');
      });
    });

    if (include('devicecode', kind)) test(`the device code request gets ${kind}: "Offline" on the screen, and a press signs in`, async (t) => {
      const h = await harness(t);
      h.idp.faults.push(fault('devicecode', kind));
      await withoutUnhandledRejections(async () => {
        const agent = await h.startAgent();
        const stuck = await agent.waitFor('needs-press');
        assert.equal(stuck.name === 'needs-press' && stuck.problem.title, 'Offline');
        assert.equal(h.idp.faults.length, 0, 'the fault was served');
        agent.button.press();
        h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
        await agent.waitFor('signed-in');
      });
    });

    if (include('poll', kind)) test(`a poll of the token endpoint gets ${kind}: the same code stays on the screen and the sign-in completes`, async (t) => {
      const h = await harness(t);
      h.idp.faults.push(fault('token', kind, isPoll));
      await withoutUnhandledRejections(async () => {
        const agent = await h.startAgent();
        const shown = await agent.waitFor('showing-code');
        await until('the poll met the fault and polling went on', () => h.idp.faults.length === 0
          && h.logs.lines().some((l) => l.event === 'device_code.offline'));
        const stillShown = agent.app.agent.state;
        assert.equal(stillShown.name, 'showing-code', 'the code is still on the screen');
        assert.equal(stillShown.name === 'showing-code' && stillShown.code.userCode, shown.name === 'showing-code' && shown.code.userCode, 'the same code');
        h.idp.approve(shown.name === 'showing-code' ? shown.code.userCode : '');
        await agent.waitFor('signed-in');
        assert.equal(h.logs.lines().filter((l) => l.event === 'device_code.issued').length, 1, 'no second code was needed');
      });
    });

    if (include('refresh', kind)) test(`a token refresh gets ${kind}: the tokens are kept, the jobs say "offline", the next run works`, async (t) => {
      // Access tokens shorter than msal-node's 5-minute margin: every job refreshes.
      const h = await harness(t, { accessTokenLifetimeSec: 120 });
      await withoutUnhandledRejections(async () => {
        const agent = await signIn(h);
        const mark = h.logs.lines().length;
        h.idp.faults.push(fault('token', kind, isRefresh));
        agent.button.press();
        await until('a job could not get a token', () => linesSince(h, mark).some((l) => l.event === 'graph.job' && l.ok === false && typeof l.error === 'string'));
        await agent.waitFor('signed-in', (s) => !(s as Extract<State, { name: 'signed-in' }>).online);
        assert.equal(h.idp.faults.length, 0, 'the fault was served');
        const next = h.logs.lines().length;
        agent.button.press();
        await until('both jobs ran again', () => linesSince(h, next).filter((l) => l.event === 'graph.job' && l.ok === true).length >= 2);
        await agent.waitFor('signed-in', (s) => (s as Extract<State, { name: 'signed-in' }>).online);
        assert.ok(!h.logs.lines().some((l) => l.event === 'token.needs_sign_in'), 'a bad reply is not a reason to sign in again');
      });
    });
  }


  for (const kind of MALFORMATIONS) {
    if (include('graph', kind)) test(`Graph answers /me with ${kind}: reported in one line, and the job works again`, async (t) => {
      const h = await harness(t);
      const expected = GRAPH_EXPECTATIONS[kind];
      await withoutUnhandledRejections(async () => {
        const agent = await signIn(h);
        const mark = h.logs.lines().length;
        h.idp.faults.push(fault('graph', kind, (r) => r.path === '/v1.0/me'));
        agent.button.press();
        await until('both jobs finished', () => linesSince(h, mark).filter((l) => l.event === 'graph.job').length >= 2);
        assert.equal(h.idp.faults.length, 0, 'the fault was served');
        const me = linesSince(h, mark).find((l) => l.event === 'graph.job' && l.job === 'me')!;
        const said = linesSince(h, mark).filter((l) => l.event === 'graph.job' || l.event === 'graph.request').map((l) => String(l.msg)).join('\n');
        assert.match(said, expected.said, 'the log says what came back');
        assert.equal(me.ok, !expected.failsFirst, `the run's outcome: ${JSON.stringify(me)}`);
        if (expected.failsFirst) {
          const next = h.logs.lines().length;
          agent.button.press();
          await until('the next run of me', () => linesSince(h, next).some((l) => l.event === 'graph.job' && l.job === 'me'));
          assert.equal(linesSince(h, next).find((l) => l.event === 'graph.job' && l.job === 'me')!.ok, true, 'the next run works');
        }
        const state = await agent.waitFor('signed-in', (s) => (s as Extract<State, { name: 'signed-in' }>).lines.some((l) => l.line === 'Retail Manager'));
        assert.equal(state.name, 'signed-in');
      });
    });
  }
}
