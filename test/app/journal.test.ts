import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../support/agent-harness.js';
import { FakeClock } from '../support/fake-clock.js';
import type { State } from '../../src/agent/machine.js';

/**
 * The journal is an interface: people read it with `journalctl -p warning` and alert on it. A
 * normal session — start, sign in, jobs, presses, a hold and sign-out, a revoked sign-in and a new
 * one, a network outage and recovery, stop — logs nothing at error, and only the warnings an
 * operator must act on. Real msal-node and HTTPS to the identity emulator; the agent's own timers
 * on a fake clock.
 */

const codeOf = (s: State): string => (s.name === 'showing-code' ? s.code.userCode : '');

test('a normal session logs no error, and exactly the warnings that ask for an action', async (t) => {
  const h = await startHarness({ emulator: { deviceCodeLifetimeSec: 600 }, config: { signIn: { minPollIntervalSec: 0.05, autoRenewCodes: 1, offlineRetryMaxSec: 0.2 } } });
  t.after(() => h.close());
  const clock = new FakeClock(Date.now());
  const agent = await h.startAgent({ timers: clock });
  const signedInWithLines = (): Promise<State> => agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2);
  const approveShown = async (): Promise<void> => h.idp.approve(codeOf(await agent.waitFor('showing-code')));

  // Start and sign in; the jobs run.
  await approveShown();
  await signedInWithLines();
  // A press: the jobs run now. A press while they run: not a second run.
  agent.button.press();
  agent.button.press();
  await signedInWithLines();
  // A press while a code is shown: a new code; the old one is cancelled.
  // (Sign out first: hold, then the confirming press.)
  agent.button.hold();
  await agent.waitFor('confirm-sign-out');
  agent.button.press();
  await agent.waitFor('needs-press');
  agent.button.press();
  const first = await agent.waitFor('showing-code');
  agent.button.press();
  await agent.waitFor('showing-code', (s) => codeOf(s) !== codeOf(first));
  await approveShown();
  await signedInWithLines();
  // The sign-in is revoked (a password change); the next Graph call finds out; a new sign-in.
  h.idp.revokeSessions();
  agent.button.press();
  await clock.pass(5_000);
  await approveShown();
  await signedInWithLines();
  // A network outage: Graph and the token endpoint drop every connection for a while, then recover.
  h.idp.faults.push({ endpoint: 'graph', destroySocket: true, count: 6 });
  agent.button.press();
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && !s.online);
  h.idp.faults.clear();
  await clock.pass(300_000, { stepMs: 5_000 }); // the agent's own retry brings it back
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.online);
  await agent.stop();

  const lines = h.logs.lines();
  const at = (...levels: string[]): string[] => lines.filter((l) => levels.includes(String(l.level))).map((l) => `${String(l.event)}: ${String(l.msg)}`);
  assert.deepEqual(at('error', 'fatal'), [], 'no line at error');
  const warnings = lines.filter((l) => l.level === 'warn').map((l) => String(l.event));
  assert.deepEqual(warnings, [
    'cache.key_created', // a key was made on first start: seal it (keygen says how)
    'token.needs_sign_in', // the sign-in was revoked: a person must sign in again (once, not once per job)
    'agent.offline', // the network is gone: check it if this lasts
  ], at('warn').join('\n'));
  const revoked = lines.find((l) => l.event === 'token.needs_sign_in')!;
  assert.equal(revoked.aadsts, 50173, 'the AADSTS code is a field of its own');
  assert.match(String(revoked.reason), /^invalid_grant/);
  assert.match(String(revoked.trace_id), /^[0-9a-f-]{36}$/, 'the trace id too');
  assert.doesNotMatch(String(revoked.reason), /Trace ID|Correlation ID|Timestamp/, 'ids go into fields, not the reason');
  for (const l of lines) assert.doesNotMatch(String(l.msg), /[\r\n]/, `one line: ${String(l.msg)}`);
  // One spelling for every field: snake_case (the events' own dots aside), and no key twice in a
  // line (pino writes a child's bindings again when a grandchild binds the same key).
  for (const raw of h.logs.raw) {
    const keys = [...raw.matchAll(/[{,]"([^"]+)":/g)].map((m) => m[1]!);
    const top = Object.keys(JSON.parse(raw) as object);
    assert.equal(new Set(keys.filter((k) => top.includes(k))).size, keys.filter((k) => top.includes(k)).length, `a key twice: ${raw}`);
    for (const key of top) assert.match(key, /^[a-z][a-z0-9_]*$/, `field "${key}" in ${raw}`);
  }
});
