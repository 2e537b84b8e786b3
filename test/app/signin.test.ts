import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type RunningAgent } from '../support/agent-harness.js';
import { decodeAll } from '../display/decode-text.js';

/** The text a person reads on the last frame the display was shown. */
function screenText(agent: RunningAgent): string {
  const frame = agent.display.last;
  assert.ok(frame, 'something was drawn');
  return decodeAll(frame).map((r) => r.text).join(' | ');
}

/**
 * The walking skeleton end to end: the real agent, the real msal-node, over HTTPS to the identity
 * emulator, with the encrypted cache in a real file and Graph jobs through the real client.
 */

test('a full device code sign-in shows the code, then the user and their manager from Graph', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();

  const showing = await agent.waitFor('showing-code');
  assert.equal(showing.name, 'showing-code');
  const issued = await h.idp.waitForDeviceCode();
  assert.equal(showing.name === 'showing-code' && showing.code.userCode, issued.userCode);
  assert.equal(showing.name === 'showing-code' && showing.code.verificationUri, h.idp.verificationUri);

  await settle();
  assert.match(screenText(agent), new RegExp(issued.userCode), 'the user code is on the screen');

  h.idp.approve(issued.userCode);
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2);
  const state = agent.app.agent.state;
  assert.equal(state.name === 'signed-in' && state.account.name, 'Adele Vance');
  assert.deepEqual(state.name === 'signed-in' && state.lines.map((l) => l.line), ['Retail Manager', 'Manager: Megan Bowen']);
  await settle();
  const text = screenText(agent);
  assert.match(text, /Adele Vance/);
  assert.match(text, /Manager: Megan Bowen/);

  const events = h.logs.events();
  for (const e of ['device_code.issued', 'signin.succeeded', 'graph.job']) assert.ok(events.includes(e), `log has ${e}`);
  const issuedLine = h.logs.lines().find((l) => l.event === 'device_code.issued')!;
  assert.equal(issuedLine.user_code, issued.userCode);
  assert.equal(issuedLine.verification_uri, h.idp.verificationUri);
  assert.ok(typeof issuedLine.expires_at === 'string' && !Number.isNaN(Date.parse(issuedLine.expires_at)));
});

test('the device label: on the code screen in turns with the URL, and in the log with the code and the sign-in', async (t) => {
  const h = await startHarness({ config: { device: { label: 'kiosk-3' } } });
  t.after(() => h.close());
  const agent = await h.startAgent();
  const issued = await h.idp.waitForDeviceCode();
  // The label's turn comes 4 s into the code's life (the countdown redraws every second).
  const deadline = Date.now() + 10_000;
  while (!agent.display.frames.some((f) => decodeAll(f).some((r) => r.text.includes('kiosk-3')))) {
    assert.ok(Date.now() < deadline, `the label never showed: ${screenText(agent)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(screenText(agent), new RegExp(issued.userCode), 'the code stays on the screen');
  h.idp.approve(issued.userCode);
  await agent.waitFor('signed-in');
  const lines = h.logs.lines();
  assert.equal(lines.find((l) => l.event === 'device_code.issued')?.device, 'kiosk-3');
  assert.equal(lines.find((l) => l.event === 'signin.succeeded')?.device, 'kiosk-3');
});

test('no access token, refresh token, id token or device_code appears in any log line of a sign-in', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();
  const issued = await h.idp.waitForDeviceCode();
  h.idp.approve(issued.userCode);
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2);
  // Force a refresh too, so refresh-token traffic is in the log.
  await agent.app.identity.getAccessToken({ forceRefresh: true });
  await agent.stop();
  const secrets = h.idp.issuedSecrets();
  assert.ok(secrets.length >= 4, 'the emulator issued tokens and a device code');
  const all = h.logs.raw.join('\n');
  assert.ok(h.logs.raw.length > 10, 'the sign-in was logged');
  for (const secret of secrets) {
    assert.ok(!all.includes(secret), `a secret issued by the server (${secret.slice(0, 8)}…) appears in the log`);
    // Also no recognisable fragment of it (a JWT's signature part, say).
    for (const part of secret.split('.').filter((p) => p.length >= 16)) assert.ok(!all.includes(part), 'a part of a token appears in the log');
  }
});

test('a restart signs in silently from the encrypted cache: no second device code', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const first = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await first.waitFor('signed-in');
  await first.stop();
  const codesBefore = h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length;

  const second = await h.startAgent();
  const state = await second.waitFor('signed-in');
  assert.equal(state.name === 'signed-in' && state.account.username, 'AdeleV@contoso.example');
  assert.equal(h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length, codesBefore, 'no new device code was requested');
});

test('a press during sign-in gives a new code at once, and the old code is no longer polled', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();
  const first = await agent.waitFor('showing-code');
  const firstCode = first.name === 'showing-code' ? first.code.userCode : '';
  agent.button.press();
  const second = await agent.waitFor('showing-code', (s) => s.name === 'showing-code' && s.code.userCode !== firstCode);
  assert.notEqual(second.name === 'showing-code' && second.code.userCode, firstCode);
  // After its current wait, the abandoned code is not polled again.
  await new Promise((r) => setTimeout(r, 300));
  const pollsOfOld = (): number => h.idp.requests.filter((r) => r.grantType?.includes('device_code') && r.userCode === firstCode).length;
  const before = pollsOfOld();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(pollsOfOld(), before, 'the old code is still being polled');
  // The new code works.
  h.idp.approve(second.name === 'showing-code' ? second.code.userCode : '');
  await agent.waitFor('signed-in');
});

test('a declined code shows the error screen, and a press recovers with a new code', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();
  h.idp.deny((await h.idp.waitForDeviceCode()).userCode);
  const state = await agent.waitFor('needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.title, 'Sign-in declined');
  await settle();
  assert.match(screenText(agent), /declined/i, 'the screen says why');
  assert.ok(h.logs.lines().some((l) => l.event === 'signin.failed' && l.kind === 'declined' && String(l.reason).includes('authorization_declined')));
  agent.button.press();
  await agent.waitFor('showing-code');
});

test('an expired code is renewed once automatically, then the screen asks for a press', async (t) => {
  const h = await startHarness({ emulator: { deviceCodeLifetimeSec: 0.4 } });
  t.after(() => h.close());
  const agent = await h.startAgent();
  const state = await agent.waitFor('needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.title, 'Code expired');
  await settle();
  assert.match(screenText(agent), /Code expired/);
  assert.match(screenText(agent), /Press/);
  assert.equal(h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length, 2, 'the first code and one automatic renewal');
  h.idp.settings.deviceCodeLifetimeSec = 30;
  agent.button.press();
  await agent.waitFor('showing-code');
});

/** Lets the display catch up with the last state change (frames are drawn asynchronously). */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 50));
}
