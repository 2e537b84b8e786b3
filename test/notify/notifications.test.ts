import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startHarness, type Harness, type RunningAgent } from '../support/agent-harness.js';
import { startReceiver, type Receiver } from './receiver.js';
import type { State } from '../../src/agent/machine.js';

/**
 * Notifications end to end: the real agent, msal-node and HTTPS to the identity emulator, and a
 * real HTTP receiver on 127.0.0.1 per target format.
 */

const codeOf = (s: State): string => (s.name === 'showing-code' ? s.code.userCode : '');

async function until(what: string, test: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function signIn(agent: RunningAgent, h: Harness): Promise<void> {
  h.idp.approve(codeOf(await agent.waitFor('showing-code')));
  await agent.waitFor('signed-in', (s) => s.name === 'signed-in' && s.lines.length === 2);
}

function events(r: Receiver, pathPrefix: string): string[] {
  return r.received.filter((x) => x.path.startsWith(pathPrefix)).map((x) => String(x.json.event ?? x.json.title));
}

test('sign-in, revocation, new sign-in: each event reaches the webhook, ntfy and Home Assistant once, in the documented shape, with no secret', async (t) => {
  const r = await startReceiver();
  t.after(() => r.close());
  const h = await startHarness({
    config: {
      device: { label: 'kitchen-pi' },
      notify: {
        targets: [
          { type: 'webhook', url: r.url('/hook'), bearerTokenFile: 'hook-token' },
          { type: 'ntfy', url: r.url('/ntfy/devices'), tags: ['pi'] },
          { type: 'homeassistant', url: r.url('/api/webhook/graph-device') },
        ],
      },
    },
  });
  t.after(() => h.close());
  await writeFile(path.join(path.dirname(h.config.configFile!), 'hook-token'), 'hook-secret-123\n');
  // The token file is read when the agent starts (relative to the configuration file).
  const agent = await h.startAgent();
  await signIn(agent, h);
  await until('signed-in notifications', () => r.received.length === 3);

  h.idp.revokeSessions(); // a password change: refresh tokens dead, Graph answers 401
  agent.button.press(); // run the jobs now: 401, the refresh is refused
  const shown = await agent.waitFor('showing-code');
  await until('sign-in needed notifications', () => r.received.length === 6);
  h.idp.approve(codeOf(shown));
  await agent.waitFor('signed-in');
  await until('the second signed-in notifications', () => r.received.length === 9);
  await new Promise((res) => setTimeout(res, 300)); // nothing more arrives
  await agent.stop();
  assert.equal(r.received.length, 9);

  assert.deepEqual(events(r, '/hook'), ['signin.succeeded', 'signin.needed', 'signin.succeeded']);
  assert.deepEqual(events(r, '/api/webhook/graph-device'), ['signin.succeeded', 'signin.needed', 'signin.succeeded']);
  const hook = r.received.filter((x) => x.path === '/hook');
  assert.equal(hook[0]!.headers.authorization, 'Bearer hook-secret-123', 'the bearer token from its file');
  const needed = hook[1]!.json;
  assert.deepEqual(Object.keys(needed).sort(), ['account', 'device', 'event', 'message', 'reason', 'severity', 'source', 'time', 'title', 'verificationUri', 'version']);
  assert.equal(needed.source, 'graph-device-agent');
  assert.equal(needed.version, 1);
  assert.equal(needed.device, 'kitchen-pi');
  assert.equal(needed.reason, 'revoked');
  assert.equal(needed.account, 'AdeleV@contoso.example');
  assert.equal(needed.verificationUri, h.idp.verificationUri);
  assert.equal(needed.userCode, undefined, 'no user code unless the operator allows it');
  assert.equal(hook[0]!.json.account, 'AdeleV@contoso.example');
  assert.ok(!Number.isNaN(Date.parse(String(hook[0]!.json.time))));

  // ntfy: the JSON publish form, to the server's root, the topic in the body.
  const ntfy = r.received.filter((x) => x.path === '/ntfy/');
  assert.equal(ntfy.length, 3);
  assert.equal(ntfy[1]!.json.topic, 'devices');
  assert.equal(ntfy[1]!.json.title, 'kitchen-pi: sign-in needed');
  assert.equal(ntfy[1]!.json.priority, 4);
  assert.deepEqual(ntfy[1]!.json.tags, ['key', 'warning', 'pi']);
  assert.equal(ntfy[1]!.json.click, h.idp.verificationUri);
  assert.match(String(ntfy[1]!.json.message), /revoked/);

  // No token, refresh token, id token or device code in any body.
  const secrets = h.idp.issuedSecrets();
  assert.ok(secrets.length >= 6);
  const bodies = r.received.map((x) => x.body).join('\n');
  for (const secret of secrets) {
    assert.ok(!bodies.includes(secret), `a secret issued by the server (${secret.slice(0, 8)}…) is in a notification`);
    for (const part of secret.split('.').filter((p) => p.length >= 16)) assert.ok(!bodies.includes(part), 'a part of a token is in a notification');
  }
  // Not the user code either (includeUserCode is off).
  assert.ok(!bodies.includes(codeOf(shown)), 'the user code is in a notification');
});

test('includeUserCode: the code on the screen travels in "sign-in needed"; a first start sends nothing', async (t) => {
  const r = await startReceiver();
  t.after(() => r.close());
  const h = await startHarness({ config: { notify: { includeUserCode: true, targets: [{ type: 'webhook', url: r.url('/hook') }] } } });
  t.after(() => h.close());
  const agent = await h.startAgent();
  await agent.waitFor('showing-code');
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(r.received.length, 0, 'never signed in: nothing to tell');
  await signIn(agent, h);
  h.idp.revokeSessions();
  agent.button.press();
  const shown = await agent.waitFor('showing-code');
  await until('sign-in needed', () => r.received.length === 2);
  assert.equal(r.received[1]!.json.userCode, codeOf(shown), 'the code on the screen');
  h.idp.approve(codeOf(shown));
  await agent.waitFor('signed-in');
  // A hold and its confirmation sign out: that is a lapse too, told at once (no code yet).
  agent.button.hold();
  await agent.waitFor('confirm-sign-out');
  agent.button.press();
  await agent.waitFor('needs-press');
  await until('four notifications', () => r.received.length === 4);
  await new Promise((res) => setTimeout(res, 200));
  assert.deepEqual(r.received.map((x) => [x.json.event, x.json.reason]),
    [['signin.succeeded', undefined], ['signin.needed', 'revoked'], ['signin.succeeded', undefined], ['signin.needed', 'signed-out']]);
  assert.equal(r.received[3]!.json.userCode, undefined);
});

test('dead targets (a hung socket, HTTP 500, nothing listening) change nothing else: sign-in and jobs as usual, each failure logged once', async (t) => {
  const hung = await startReceiver();
  hung.mode = 'hang';
  const failing = await startReceiver();
  failing.mode = 500;
  const gone = await startReceiver();
  const goneUrl = gone.url('/hook');
  await gone.close();
  t.after(() => hung.close());
  t.after(() => failing.close());
  const h = await startHarness({
    config: {
      notify: {
        timeoutSec: 30,
        targets: [
          { type: 'webhook', url: hung.url('/hook'), name: 'hung' },
          { type: 'webhook', url: failing.url('/hook'), name: 'failing' },
          { type: 'webhook', url: goneUrl, name: 'gone' },
        ],
      },
    },
  });
  t.after(() => h.close());
  const agent = await h.startAgent();
  const started = Date.now();
  await signIn(agent, h);
  const signInMs = Date.now() - started;
  await until('each target tried', () => hung.hung === 1 && failing.received.length >= 1 && h.logs.lines().filter((l) => l.event === 'notify.failed').length === 2);
  // Jobs still run while the hung request is open.
  agent.button.press();
  await until('the jobs ran again', () => h.logs.lines().filter((l) => l.event === 'graph.job').length >= 4);
  assert.equal(hung.hung, 1, 'the hung request is still open');
  assert.ok(signInMs < 5_000, `sign-in took ${signInMs} ms`);
  const failed = h.logs.lines().filter((l) => l.event === 'notify.failed');
  assert.deepEqual(failed.map((l) => l.target).sort(), ['failing', 'gone'], 'each dead target logged once (the hung one has not timed out yet)');
  for (const l of failed) {
    assert.equal(l.level, 'warn');
    assert.ok(typeof l.fix === 'string' && l.fix.length > 10, 'with the fix');
  }
  const stopAt = Date.now();
  await agent.stop();
  assert.ok(Date.now() - stopAt < 2_000, 'a hung target does not hold up the stop');
});

test('refresh_old: after a long power-off the agent warns at start, and notifies', async (t) => {
  const r = await startReceiver();
  t.after(() => r.close());
  const h = await startHarness({ config: { notify: { refreshAgeWarnDays: 60, targets: [{ type: 'webhook', url: r.url('/hook') }] } } });
  t.after(() => h.close());
  const first = await h.startAgent();
  await signIn(first, h);
  await first.stop();
  const record = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(h.dir, 'signin.json'), 'utf8')) as Record<string, string>;
  assert.equal(record.account, 'AdeleV@contoso.example');
  assert.ok(record.signedInAt && record.lastRefreshAt, 'both times recorded');
  // 70 days off.
  const old = new Date(Date.now() - 70 * 86_400_000).toISOString();
  await writeFile(path.join(h.dir, 'signin.json'), JSON.stringify({ ...record, lastRefreshAt: old }));
  const second = await h.startAgent();
  await second.waitFor('signed-in');
  const warn = h.logs.lines().find((l) => l.event === 'signin.refresh_old');
  assert.equal(warn?.level, 'warn');
  assert.equal(warn?.days, 70);
  await until('the notification', () => r.received.some((x) => x.json.event === 'signin.refresh_old'));
  assert.equal(r.received.find((x) => x.json.event === 'signin.refresh_old')!.json.lastRefresh, old);
});
