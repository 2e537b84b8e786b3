import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, transition, type Event, type State, type Effect } from '../../src/agent/machine.js';

const options = { autoRenewCodes: 2 };
const account = { homeAccountId: 'uid.utid', name: 'Adele Vance', username: 'AdeleV@contoso.example' };
const code = (userCode: string) => ({ userCode, verificationUri: 'https://microsoft.com/devicelogin', issuedAt: 0, expiresAt: 900_000 });

/** Runs events from the initial state; returns the final state and every effect, in order. */
function run(...events: Event[]): { state: State; effects: Effect[] } {
  let state: State = initialState;
  const effects: Effect[] = [];
  for (const e of events) {
    const t = transition(state, e, options);
    state = t.state;
    effects.push(...t.effects);
  }
  return { state, effects };
}

test('at start the cached account is tried first; success means signed in and jobs resume', () => {
  const { state, effects } = run({ type: 'started' }, { type: 'silent-succeeded', account, online: true });
  assert.equal(state.name, 'signed-in');
  assert.deepEqual(effects.map((e) => e.type), ['try-silent', 'resume-jobs']);
});

test('with no usable cache a device code is requested and shown', () => {
  const { state, effects } = run({ type: 'started' }, { type: 'silent-needs-sign-in' }, { type: 'code-issued', attempt: 1, code: code('ABCDEFGHJ') });
  assert.equal(state.name, 'showing-code');
  assert.equal(state.name === 'showing-code' && state.code.userCode, 'ABCDEFGHJ');
  assert.deepEqual(effects, [{ type: 'try-silent' }, { type: 'start-device-code', attempt: 1 }]);
});

test('a press while a code is shown cancels it and requests a new one at once', () => {
  const { state, effects } = run({ type: 'started' }, { type: 'silent-needs-sign-in' }, { type: 'code-issued', attempt: 1, code: code('AAAAAAAAA') }, { type: 'pressed' });
  assert.deepEqual(effects.slice(-2), [{ type: 'cancel-device-code', attempt: 1 }, { type: 'start-device-code', attempt: 2 }]);
  assert.equal(state.name, 'requesting-code');
});

test('the abandoned attempt cannot overwrite the new code, but its success still signs in', () => {
  const base: Event[] = [{ type: 'started' }, { type: 'silent-needs-sign-in' }, { type: 'code-issued', attempt: 1, code: code('OLD') }, { type: 'pressed' }];
  const stale = run(...base, { type: 'code-issued', attempt: 2, code: code('NEWCODE1') }, { type: 'sign-in-failed', attempt: 1, failure: { kind: 'cancelled', reason: 'x' } });
  assert.equal(stale.state.name === 'showing-code' && stale.state.code.userCode, 'NEWCODE1');
  const oldApproved = run(...base, { type: 'code-issued', attempt: 2, code: code('NEWCODE1') }, { type: 'sign-in-succeeded', attempt: 1, account });
  assert.equal(oldApproved.state.name, 'signed-in');
  assert.deepEqual(oldApproved.effects.slice(-2), [{ type: 'cancel-device-code', attempt: 2 }, { type: 'resume-jobs' }]);
});

test('expired codes are renewed automatically a few times, then the device waits for a press', () => {
  const expired = (attempt: number): Event => ({ type: 'sign-in-failed', attempt, failure: { kind: 'expired', reason: 'Nobody entered the code in time' } });
  const events: Event[] = [{ type: 'started' }, { type: 'silent-needs-sign-in' }];
  for (let attempt = 1; attempt <= 3; attempt++) events.push({ type: 'code-issued', attempt, code: code(`C${attempt}CCCCCC`) }, expired(attempt));
  const { state, effects } = run(...events);
  assert.equal(effects.filter((e) => e.type === 'start-device-code').length, 3, 'the first code and two renewals');
  assert.equal(state.name, 'needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.title, 'Code expired');
  assert.match(state.name === 'needs-press' ? state.problem.action : '', /Press the button/);
  const after = transition(state, { type: 'pressed' }, options);
  assert.equal(after.state.name, 'requesting-code');
});

test('a declined code shows why and a press recovers', () => {
  const { state } = run({ type: 'started' }, { type: 'silent-needs-sign-in' }, { type: 'code-issued', attempt: 1, code: code('AAAAAAAAA') },
    { type: 'sign-in-failed', attempt: 1, failure: { kind: 'declined', reason: 'The sign-in was declined on the phone' } });
  assert.equal(state.name, 'needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.reason, 'The sign-in was declined on the phone');
  const t = transition(state, { type: 'pressed' }, options);
  assert.deepEqual(t.effects, [{ type: 'start-device-code', attempt: 2 }]);
});

test('offline at sign-in retries by itself with growing waits', () => {
  const offline = (attempt: number): Event => ({ type: 'sign-in-failed', attempt, failure: { kind: 'offline', reason: 'No connection' } });
  let { state, effects } = run({ type: 'started' }, { type: 'silent-needs-sign-in' }, offline(1));
  assert.equal(state.name, 'needs-press');
  assert.deepEqual(effects.at(-1), { type: 'retry-later', afterMs: 10_000 });
  ({ state, effects } = transition(state, { type: 'retry' }, options));
  assert.deepEqual(effects, [{ type: 'start-device-code', attempt: 2 }]);
  ({ state, effects } = transition(state, offline(2), options));
  assert.deepEqual(effects, [{ type: 'retry-later', afterMs: 20_000 }]);
});

test('signed in: a press runs the jobs now; a hold asks, and a second press signs out', () => {
  const signedIn = run({ type: 'started' }, { type: 'silent-succeeded', account, online: true }).state;
  assert.deepEqual(transition(signedIn, { type: 'pressed' }, options).effects, [{ type: 'run-jobs-now' }]);
  const held = transition(signedIn, { type: 'held' }, options);
  assert.equal(held.state.name, 'confirm-sign-out');
  assert.deepEqual(held.effects, [{ type: 'confirm-timeout', afterMs: 10_000 }]);
  const confirmed = transition(held.state, { type: 'pressed' }, options);
  assert.deepEqual(confirmed.effects, [{ type: 'pause-jobs' }, { type: 'sign-out' }]);
  const out = transition(confirmed.state, { type: 'signed-out' }, options);
  assert.equal(out.state.name, 'needs-press');
  assert.equal(out.state.name === 'needs-press' && out.state.problem.title, 'Signed out');
});

test('job results fill the signed-in screen lines and the sync time', () => {
  const signedIn = run({ type: 'started' }, { type: 'silent-succeeded', account, online: true }).state;
  let s = transition(signedIn, { type: 'job-finished', job: 'manager', ok: true, line: 'Manager: Megan Bowen', online: true, at: 42 }, options).state;
  s = transition(s, { type: 'job-finished', job: 'me', ok: true, line: 'Adele Vance', online: true, at: 43 }, options).state;
  assert.equal(s.name, 'signed-in');
  if (s.name !== 'signed-in') return;
  assert.deepEqual(s.lines.map((l) => l.line), ['Manager: Megan Bowen', 'Adele Vance']);
  assert.equal(s.lastSyncAt, 43);
  s = transition(s, { type: 'job-finished', job: 'me', ok: false, online: false, at: 99 }, options).state;
  assert.equal(s.name === 'signed-in' && s.online, false);
  assert.equal(s.name === 'signed-in' && s.lastSyncAt, 43, 'a failed run does not move the sync time');
});

test('a revoked sign-in while signed in goes back to the device code flow, jobs paused', () => {
  const signedIn = run({ type: 'started' }, { type: 'silent-succeeded', account, online: true }).state;
  const t = transition(signedIn, { type: 'token-needs-sign-in', why: 'The sign-in expired or was revoked' }, options);
  assert.equal(t.state.name, 'requesting-code');
  assert.deepEqual(t.effects, [{ type: 'pause-jobs' }, { type: 'start-device-code', attempt: 1 }]);
});

test('stop cancels the code being polled and pauses jobs; nothing happens after', () => {
  const showing = run({ type: 'started' }, { type: 'silent-needs-sign-in' }, { type: 'code-issued', attempt: 1, code: code('AAAAAAAAA') }).state;
  const t = transition(showing, { type: 'stop' }, options);
  assert.deepEqual(t.effects, [{ type: 'cancel-device-code', attempt: 1 }, { type: 'pause-jobs' }]);
  assert.equal(transition(t.state, { type: 'pressed' }, options).effects.length, 0);
});

test('the sign-out question times out back to the signed-in screen, keeping job results', () => {
  const signedIn = run({ type: 'started' }, { type: 'silent-succeeded', account, online: true }).state;
  let s = transition(signedIn, { type: 'held' }, options).state;
  s = transition(s, { type: 'job-finished', job: 'me', order: 0, ok: true, line: 'Retail Manager', online: true, at: 5 }, options).state;
  const back = transition(s, { type: 'confirm-timed-out' }, options);
  assert.equal(back.state.name, 'signed-in');
  assert.deepEqual(back.effects, []);
  assert.deepEqual(back.state.name === 'signed-in' && back.state.lines.map((l) => l.line), ['Retail Manager']);
});
