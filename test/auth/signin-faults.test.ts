import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness, type RunningAgent } from '../support/agent-harness.js';
import { aadErrorBody, type Fault } from '../support/identity-emulator/index.js';
import { decodeAll } from '../display/decode-text.js';

/**
 * The sign-in under faults, through the real msal-node over HTTPS to the identity emulator's fault
 * controls: asserted on the screen, the log and the cache file.
 */

const isPoll = (r: { grantType?: string }): boolean => r.grantType?.includes('device_code') === true;

async function showingCode(h: Harness): Promise<{ agent: RunningAgent; userCode: string }> {
  const agent = await h.startAgent();
  const s = await agent.waitFor('showing-code');
  return { agent, userCode: s.name === 'showing-code' ? s.code.userCode : '' };
}

function screenText(agent: RunningAgent): string {
  return decodeAll(agent.display.last!).map((r) => r.text).join(' | ');
}

/** Resolves once `test` holds, checking every 20 ms. */
function until(test: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (!test()) return;
      clearInterval(check);
      resolve();
    }, 20);
  });
}

const settle = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Faults on the polls of the code on screen; after them the same code is approved and works. */
async function keepsTheSameCodeThrough(fault: Fault, options: { timeoutSec?: number } = {}): Promise<void> {
  const h = await startHarness({ config: { signIn: { minPollIntervalSec: 0.05, autoRenewCodes: 0, offlineRetryMaxSec: 0.2 }, network: { timeoutSec: options.timeoutSec ?? 5 } } });
  try {
    const { agent, userCode } = await showingCode(h);
    h.idp.faults.push({ ...fault, match: (req) => req.grantType?.includes('device_code') === true, count: 3 });
    const offline = await agent.waitFor('showing-code', (s) => s.name === 'showing-code' && s.offline);
    assert.equal(offline.name === 'showing-code' && offline.code.userCode, userCode, 'the same code stays on screen');
    await settle();
    const text = screenText(agent);
    assert.match(text, /Offline/, 'the screen says offline');
    assert.match(text, new RegExp(userCode), 'without hiding the code');
    assert.ok(h.logs.lines().some((l) => l.event === 'device_code.offline'), 'logged once as offline');

    await agent.waitFor('showing-code', (s) => s.name === 'showing-code' && !s.offline);
    assert.equal(h.idp.faults.length, 0, 'every injected fault was hit');
    h.idp.approve(userCode);
    await agent.waitFor('signed-in');
    assert.equal(h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length, 1, 'no second code was needed');
    assert.equal(h.logs.lines().filter((l) => l.event === 'device_code.offline').length, 1);
  } finally {
    await h.close();
  }
}

test('a reset connection while the code is shown: the same code is polled until it works', () =>
  keepsTheSameCodeThrough({ endpoint: 'token', destroySocket: true }));

test('a 503 while the code is shown: the same code, and msal-node\'s throttle never engages', () =>
  keepsTheSameCodeThrough({ endpoint: 'token', status: 503, headers: { 'retry-after': '0' } }));

test('a captive portal\'s HTML page while the code is shown', () =>
  keepsTheSameCodeThrough({ endpoint: 'token', status: 200, contentType: 'text/html', body: '<html><body>Sign in to the hotel Wi-Fi</body></html>' }));

test('a hung connection times out and polling goes on', () =>
  keepsTheSameCodeThrough({ endpoint: 'token', delayMs: 3_000 }, { timeoutSec: 0.3 }));

test('slow_down adds 5 seconds between polls and does not end the sign-in', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const { agent, userCode } = await showingCode(h);
  h.idp.faults.push({ endpoint: 'token', status: 400, body: { error: 'slow_down', error_description: 'polling too fast' }, match: (r) => r.grantType?.includes('device_code') === true });
  await until(() => h.idp.faults.length === 0);
  const slowAt = Date.now();
  // The next poll comes no sooner than 5 s later (interval 0.05 s + 5 s).
  await until(() => h.idp.requests.some((r) => isPoll(r) && r.at > slowAt));
  const next = h.idp.requests.find((r) => isPoll(r) && r.at > slowAt)!;
  assert.ok(next.at - slowAt >= 4_900, `next poll after ${next.at - slowAt} ms`);
  assert.equal(agent.app.agent.state.name, 'showing-code');
  h.idp.approve(userCode);
  await agent.waitFor('signed-in');
  assert.ok(h.logs.lines().some((l) => l.event === 'device_code.slow_down'));
});

test('a Conditional Access block shows a short reason on screen and the AADSTS code in the log', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const { agent } = await showingCode(h);
  h.idp.faults.push({
    endpoint: 'token', status: 400, match: (r) => r.grantType?.includes('device_code') === true,
    body: aadErrorBody({ error: 'invalid_grant', code: 53003, text: 'Access has been blocked by Conditional Access policies.' }),
  });
  const state = await agent.waitFor('needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.title, 'Blocked by policy');
  await settle();
  assert.match(screenText(agent), /Blocked by policy/);
  const failed = h.logs.lines().find((l) => l.event === 'signin.failed');
  assert.match(String(failed?.reason), /AADSTS53003/);
  assert.equal(failed?.kind, 'blocked');
});

test('a revoked refresh token takes the agent back to the device code, saying why', async (t) => {
  const h = await startHarness({ emulator: { accessTokenLifetimeSec: 1 } });
  t.after(() => h.close());
  const { agent, userCode } = await showingCode(h);
  h.idp.approve(userCode);
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2); // the first jobs are done
  h.idp.revokeRefreshTokens();
  await settle(1_100); // the access token expires: the next Graph call needs a refresh
  agent.button.press(); // signed in: run the jobs now
  const state = await agent.waitFor('showing-code');
  assert.equal(state.name, 'showing-code');
  assert.ok(h.logs.lines().some((l) => l.event === 'token.needs_sign_in'));
  await settle();
  const text = screenText(agent);
  assert.match(text, /Sign-in revoked/, `the screen says why: ${h.logs.lines().filter((l) => l.event === 'state.changed').map((l) => `${String(l.from)}>${String(l.to)}:${String(l.trigger)}`).join(' ')}`);
  assert.match(text, new RegExp(state.name === 'showing-code' ? state.code.userCode : '-'), 'with the new code');
});

test('a network failure during refresh keeps the tokens: offline, then back by itself', async (t) => {
  const h = await startHarness({ emulator: { accessTokenLifetimeSec: 1 } });
  t.after(() => h.close());
  const { agent, userCode } = await showingCode(h);
  h.idp.approve(userCode);
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lastSyncAt !== undefined);
  await settle(1_100);
  h.idp.faults.push({ endpoint: 'token', destroySocket: true, count: 50, match: (r) => r.grantType === 'refresh_token' });
  agent.button.press();
  const offline = await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && !s.online);
  assert.equal(offline.name === 'signed-in' && offline.account.username, 'AdeleV@contoso.example', 'still signed in');
  const status = await (await import('node:fs/promises')).stat(h.config.cache.path);
  assert.ok(status.size > 0, 'the cache file is still there');
  assert.ok(h.logs.lines().some((l) => l.event === 'retry.scheduled'), 'a retry is scheduled');
  h.idp.faults.clear();
  // The agent's own retry (15 s × jitter at most) is too slow for a test: a press runs the jobs now.
  agent.button.press();
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.online);
});

test('a 503 from the device code endpoint: "Offline", a scheduled retry, and no tight loop', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  h.idp.faults.push({ endpoint: 'devicecode', status: 503, headers: { 'retry-after': '30' } });
  const agent = await h.startAgent();
  const state = await agent.waitFor('needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.title, 'Offline');
  const retry = h.logs.lines().find((l) => l.event === 'retry.scheduled');
  assert.ok(retry && Number(retry.after_ms) >= 5_000, 'the next try waits');
  await settle(300);
  assert.equal(h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length, 1, 'no request storm');
  await settle();
  assert.match(screenText(agent), /Offline/);
});

test('an app registration without public client flows: the screen names the fix, no retry storm', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  h.idp.faults.push({
    endpoint: 'devicecode', status: 400,
    body: aadErrorBody({ error: 'invalid_client', code: 7000218, text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." }),
  });
  const agent = await h.startAgent();
  const state = await agent.waitFor('needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.title, 'App not set up');
  assert.match(state.name === 'needs-press' ? state.problem.reason : '', /Allow public client flows/);
  assert.match(String(h.logs.lines().find((l) => l.event === 'signin.failed')?.reason), /AADSTS7000218/);
  assert.equal(h.logs.lines().filter((l) => l.event === 'retry.scheduled').length, 0, 'a registration problem is not retried by itself');
});
