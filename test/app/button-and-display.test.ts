import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../support/agent-harness.js';
import { decodeAll } from '../display/decode-text.js';

const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a hold asks "Sign out?", a second press signs out and the jobs stop calling Graph', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2);
  agent.button.hold();
  await agent.waitFor('confirm-sign-out');
  await settle();
  assert.match(decodeAll(agent.display.last!).map((r) => r.text).join(' '), /Sign out\?/);
  agent.button.press();
  const state = await agent.waitFor('needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.title, 'Signed out');
  const graphCalls = h.idp.requests.filter((r) => r.path.startsWith('/v1.0/')).length;
  agent.button.press(); // a new sign-in starts; Graph stays quiet
  await agent.waitFor('showing-code');
  await settle(200);
  assert.equal(h.idp.requests.filter((r) => r.path.startsWith('/v1.0/')).length, graphCalls, 'no Graph call while signed out');
});

test('the sign-out question times out and the device stays signed in', async (t) => {
  const h = await startHarness({ config: { button: { confirmTimeoutMs: 1000 } } });
  t.after(() => h.close());
  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  agent.button.hold();
  await agent.waitFor('confirm-sign-out');
  const back = await agent.waitFor('signed-in');
  assert.equal(back.name === 'signed-in' && back.account.name, 'Adele Vance');
});

test('burn-in: the signed-in screen goes dark when idle, a press wakes it; a code keeps it on', async (t) => {
  const h = await startHarness({ config: { display: { sleepAfterSec: 0.3 } } });
  t.after(() => h.close());
  const agent = await h.startAgent();
  await agent.waitFor('showing-code');
  await settle(500);
  assert.equal(agent.display.powered, true, 'the device code screen stays on while a code is valid');
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  await settle(600);
  assert.equal(agent.display.powered, false, 'dark after the idle time');
  assert.ok(h.logs.lines().some((l) => l.event === 'display.sleep'));
  agent.button.press();
  assert.equal(agent.display.powered, true, 'a press wakes it');
});
