import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../support/agent-harness.js';
import { decodeAll } from '../display/decode-text.js';
import { FakeClock } from '../support/fake-clock.js';
import { screenFor } from '../../src/agent/screen-for.js';
import { signedInPaging } from '../../src/display/screens.js';

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

test('job lines that do not fit take turns: redrawn every page period on 128x32, never redrawn while they all fit on 128x64', async (t) => {
  for (const height of [32, 64] as const) {
    await t.test(`128x${height}`, async () => {
      const h = await startHarness({ config: { display: { height } } });
      t.after(() => h.close());
      const clock = new FakeClock(Date.now());
      const agent = await h.startAgent({ timers: clock });
      h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
      await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2);
      await settle(200);
      const screen = screenFor(agent.app.agent.state, Date.now());
      const paging = signedInPaging(screen, { width: 128, height });
      const before = agent.display.frames.length;
      // Three page periods of the agent's timers (the page itself follows the wall clock: screens.test.ts).
      const period = height === 32 ? paging.periodMs : 14_000;
      for (let i = 0; i < 3; i++) {
        clock.advanceBy(period);
        await settle(20);
      }
      if (height === 32) {
        assert.equal(paging.pages, 2, 'two lines, one row: two pages');
        assert.ok(agent.display.frames.length - before >= 3, `redrawn each period: ${agent.display.frames.length - before} frames`);
        const marks = agent.display.frames.slice(before).map((f) => decodeAll(f, 3).map((r) => r.text).find((x) => /^\d\/2$/.test(x)));
        assert.ok(marks.every((m) => m !== undefined), 'every frame has its page mark');
      } else {
        assert.equal(paging.pages, 1);
        assert.equal(agent.display.frames.length, before, 'nothing redrawn: idle stays idle');
      }
    });
  }
});
