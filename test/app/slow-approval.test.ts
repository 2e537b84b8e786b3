import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness, type RunningAgent } from '../support/agent-harness.js';
import { FakeClock } from '../support/fake-clock.js';
import { aadErrorBody } from '../support/identity-emulator/index.js';
import type { State } from '../../src/agent/machine.js';

/**
 * A person reads the code off the OLED, takes out a phone, types the code, picks an account,
 * types a password and answers MFA: that takes 15 to 60 seconds, not the fraction of a second the
 * other tests approve in. In every path into the code screen, the code shown first must stay up,
 * and stay polled, until that person has used it: one code per attempt, and a sign-in with it.
 *
 * Real msal-node, real HTTPS to the identity emulator, a real cache file; only the agent's own
 * timers (the countdown, the 10 s check for a sign-in by another process, retries) run on a fake
 * clock, moved a minute forward in one-second steps, so the test does not wait a minute.
 */

const PERSON_TAKES_MS = 60_000;

interface Run {
  h: Harness;
  clock: FakeClock;
  agent: RunningAgent;
}

async function start(t: { after: (fn: () => Promise<void>) => void }, options: Parameters<typeof startHarness>[0] = {}): Promise<Run> {
  // Codes live longer than the person takes (Entra's live 15 minutes).
  const h = await startHarness({ ...options, emulator: { deviceCodeLifetimeSec: 600, ...options.emulator } });
  t.after(() => h.close());
  const clock = new FakeClock(Date.now());
  const agent = await h.startAgent({ timers: clock });
  return { h, clock, agent };
}

const codeOf = (s: State): string => (s.name === 'showing-code' ? s.code.userCode : '');
const issued = (h: Harness): string[] => h.logs.lines().filter((l) => l.event === 'device_code.issued').map((l) => String(l.user_code));

async function signIn(run: Run): Promise<void> {
  const shown = await run.agent.waitFor('showing-code');
  run.h.idp.approve(codeOf(shown));
  await run.agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2);
}

/**
 * The code on the screen now is read by a person who approves it a minute later: it is the only
 * code issued meanwhile, it is still on the screen and polled, and it signs the agent in.
 */
async function personApprovesSlowly(run: Run, why?: RegExp): Promise<void> {
  const { h, clock, agent } = run;
  const shown = await agent.waitFor('showing-code');
  const code = codeOf(shown);
  if (why) assert.match(shown.name === 'showing-code' ? shown.why ?? '' : '', why, 'the screen says why a new sign-in is needed');
  const codesBefore = issued(h).length;
  const pollsBefore = h.idp.requests.filter((r) => r.userCode === code).length;
  await clock.pass(PERSON_TAKES_MS);
  const still = agent.app.agent.state;
  assert.equal(still.name, 'showing-code', `a minute later the agent is ${still.name}, not showing the code the person is typing`);
  assert.equal(codeOf(still), code, 'the same code is still on the screen');
  assert.deepEqual(issued(h).slice(codesBefore), [], 'no other code was issued meanwhile');
  // Still polled (after an outage, once the network's own retries have waited their turn).
  const polled = (): boolean => h.idp.requests.filter((r) => r.userCode === code).length > pollsBefore;
  for (let waited = 0; !polled() && waited < 15_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  assert.ok(polled(), 'the code is still polled');
  h.idp.approve(code);
  const done = await agent.waitFor('signed-in');
  assert.equal(done.name === 'signed-in' && done.account.username, 'AdeleV@contoso.example');
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2);
  assert.equal(agent.app.agent.state.name, 'signed-in', 'and it stays signed in: Graph accepts the new tokens');
}

test('first start: the first code, approved a minute later, signs in', async (t) => {
  const run = await start(t);
  await personApprovesSlowly(run);
  assert.equal(issued(run.h).length, 1, 'one code in all');
});

test('revoked (password change, "revoke sessions"): one new code, approved a minute later, signs in; no flapping back to the revoked tokens', async (t) => {
  const run = await start(t);
  await signIn(run);
  run.h.idp.revokeSessions(); // refresh tokens dead; Graph answers 401 to the access token in date
  run.agent.button.press(); // run the jobs now: 401, the refresh is refused
  await personApprovesSlowly(run, /Sign-in revoked/);
  assert.equal(issued(run.h).length, 2, 'the first sign-in and this one');
  const events = run.h.logs.lines().map((l) => String(l.event));
  assert.equal(events.filter((e) => e === 'signin.restored').length, 0, 'the refused tokens never "restored" a sign-in');
});

test('revoked, then the agent restarts before anyone signs in: the refused tokens are gone from the cache', async (t) => {
  const run = await start(t);
  await signIn(run);
  run.h.idp.revokeSessions();
  run.agent.button.press();
  await run.agent.waitFor('showing-code');
  await run.agent.stop();
  const clock = new FakeClock(Date.now());
  const again = await run.h.startAgent({ timers: clock });
  await personApprovesSlowly({ h: run.h, clock, agent: again });
  assert.ok(!run.h.logs.lines().some((l) => l.event === 'signin.restored'), 'no restore from the refused tokens');
});

test('refresh token expired (90 days unused, AADSTS700082): a code approved a minute later signs in', async (t) => {
  const run = await start(t, { emulator: { accessTokenLifetimeSec: 1 } });
  await signIn(run);
  run.h.idp.faults.push({
    endpoint: 'token', status: 400, count: Infinity, match: (r) => r.grantType === 'refresh_token',
    body: aadErrorBody({ error: 'invalid_grant', code: 700082, text: 'The refresh token has expired due to inactivity. The token was issued on 2026-09-01 and was inactive for 90.00:00:00.' }),
  });
  await new Promise((r) => setTimeout(r, 1_100)); // the access token runs out
  run.agent.button.press();
  await run.agent.waitFor('showing-code');
  run.h.idp.faults.clear();
  await personApprovesSlowly(run, /Sign-in expired/);
});

test('policy-forced re-sign-in (sign-in frequency, AADSTS70043): a code approved a minute later signs in', async (t) => {
  const run = await start(t, { emulator: { accessTokenLifetimeSec: 1 } });
  await signIn(run);
  run.h.idp.faults.push({
    endpoint: 'token', status: 400, count: Infinity, match: (r) => r.grantType === 'refresh_token',
    body: aadErrorBody({ error: 'invalid_grant', code: 70043, suberror: 'bad_token', text: 'The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.' }),
  });
  await new Promise((r) => setTimeout(r, 1_100));
  run.agent.button.press();
  await run.agent.waitFor('showing-code');
  run.h.idp.faults.clear();
  await personApprovesSlowly(run);
});

test('signed out with a hold: the code after the press, approved a minute later, signs in', async (t) => {
  const run = await start(t);
  await signIn(run);
  run.agent.button.hold();
  await run.agent.waitFor('confirm-sign-out');
  run.agent.button.press();
  await run.agent.waitFor('needs-press');
  run.agent.button.press();
  await personApprovesSlowly(run);
  assert.equal(issued(run.h).length, 2);
});

test('declined: the code after the press, approved a minute later, signs in', async (t) => {
  const run = await start(t);
  const first = await run.agent.waitFor('showing-code');
  run.h.idp.deny(codeOf(first));
  await run.agent.waitFor('needs-press');
  run.agent.button.press();
  await run.agent.waitFor('showing-code', (s) => codeOf(s) !== codeOf(first));
  await personApprovesSlowly(run);
  assert.equal(issued(run.h).length, 2, 'one code per attempt');
});

test('network outage while a code is shown: the same code, approved a minute later, signs in', async (t) => {
  const run = await start(t, { config: { signIn: { minPollIntervalSec: 0.05, autoRenewCodes: 1, offlineRetryMaxSec: 0.2 } } });
  // The first code is out; then the network goes: its polls fail for a while, the code stays.
  await run.agent.waitFor('showing-code');
  run.h.idp.faults.push({ endpoint: 'token', destroySocket: true, count: 4 });
  await personApprovesSlowly(run);
  assert.equal(issued(run.h).length, 1, 'the outage did not replace the code');
});

test('no network at start: after the retry, the code approved a minute later signs in', async (t) => {
  const h = await startHarness({ emulator: { deviceCodeLifetimeSec: 600 } });
  t.after(() => h.close());
  h.idp.faults.push({ endpoint: 'devicecode', destroySocket: true, count: 1 });
  const clock = new FakeClock(Date.now());
  const agent = await h.startAgent({ timers: clock });
  const offline = await agent.waitFor('needs-press');
  assert.equal(offline.name === 'needs-press' && offline.problem.title, 'Offline');
  await clock.pass(10_000); // the agent's own retry (10 s at most, with jitter)
  await personApprovesSlowly({ h, clock, agent });
  assert.equal(issued(h).length, 1);
});

test('a sign-in by another process after the code went up still ends the code screen', async (t) => {
  const run = await start(t);
  const shown = await run.agent.waitFor('showing-code');
  const login = await run.h.startAgent(); // a second process on the same cache and key
  const other = await login.waitFor('showing-code');
  run.h.idp.approve(codeOf(other));
  await login.waitFor('signed-in');
  await login.stop();
  await run.clock.pass(10_000); // the 10 s check
  const picked = await run.agent.waitFor('signed-in');
  assert.equal(picked.name === 'signed-in' && picked.account.username, 'AdeleV@contoso.example');
  // A poll already on its way when the sign-in was picked up may still arrive: count after it.
  await new Promise((r) => setTimeout(r, 200));
  const polls = run.h.idp.requests.filter((r) => r.userCode === codeOf(shown)).length;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(run.h.idp.requests.filter((r) => r.userCode === codeOf(shown)).length, polls, 'its own code is no longer polled');
});
