import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { recordGraphRun, statusCommand, summarizeAccounts, type StatusReport } from '../../src/commands/status.js';
import { encodeCache } from '../../src/auth/cache/format.js';
import { writeKeyFile } from '../../src/auth/cache/key.js';
import type { JobRun } from '../../src/graph/jobs.js';
import { accountEntry } from '../auth/cache/helpers.js';
import { leakedSecrets, pretendAgentRuns, startCommandHarness } from './support.js';

function jobRun(job: string, ok: boolean, extra: Partial<JobRun> = {}): JobRun {
  return {
    job, path: `/${job}`, reason: 'scheduled', startedAt: '2030-01-02T03:04:05.000Z', durationMs: 250, ok,
    result: ok ? { ok: true, status: 200, data: { secretish: 'not shown' }, requestId: 'req-1', attempts: 1 }
      : { ok: false, kind: 'forbidden', status: 403, message: 'Graph refused: needs User.Read.All', attempts: 1 },
    ...extra,
  };
}

test('status after a sign-in: account, token dates, key source, file state, agent and last Graph results, and no secret', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  await agent.app.identity.getAccessToken({ forceRefresh: true }); // refresh traffic too
  await pretendAgentRuns(h.dir);
  await recordGraphRun(h.dir, jobRun('me', true, { line: 'Retail Manager' }));
  await recordGraphRun(h.dir, jobRun('manager', false));

  const text = await h.run(statusCommand, {});
  assert.equal(text.code, 0, text.stderr);
  const out = text.stdout;
  assert.match(out, /Account: +AdeleV@contoso\.example \(Adele Vance\), tenant [0-9a-f-]{36}/);
  assert.match(out, /access token: +issued \d{4}-\d\d-\d\dT[\d:.]+Z \((\d+ s ago|just now)\), expires \d{4}-[\d\-T:.]+Z \(in 60 min\) \[User\.Read openid profile\]/);
  assert.match(out, /refresh token: issued \d{4}-[\d\-T:.]+Z \(.*, with the access token\), expires unknown/);
  assert.match(out, new RegExp(`Key: +key file ${h.config.cache.keyFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  assert.match(out, /Cache file: +.*token-cache\.bin, \d+ bytes, mode 0600, modified .*, readable/);
  assert.match(out, new RegExp(`Agent: +running \\(pid ${process.pid}\\), last state signed-in`));
  assert.match(out, /Last Graph: +manager \/manager at 2030-01-02T03:04:05\.250Z .*failed \(forbidden 403\): Graph refused: needs User\.Read\.All/);
  assert.match(out, /me \/me at .*: ok 200: Retail Manager/);

  const json = await h.run(statusCommand, { json: true });
  assert.equal(json.code, 0);
  const r = JSON.parse(json.stdout) as StatusReport;
  assert.equal(r.key.source, 'key-file');
  assert.equal(r.cache.readable, true);
  assert.equal(r.cache.mode, '0600');
  assert.equal(r.cache.lock, 'none');
  assert.equal(r.accounts?.length, 1);
  const account = r.accounts![0]!;
  assert.equal(account.name, 'Adele Vance');
  assert.equal(account.accessTokens[0]?.expired, false);
  assert.ok(Date.parse(account.accessTokens[0]!.expiresAt!) > Date.now());
  assert.equal(account.refreshToken?.expiresAt, null, 'Entra does not say when a refresh token expires');
  assert.equal(r.agent?.running, true);
  assert.equal(r.lastGraph?.last.job, 'manager');
  assert.equal(r.lastGraph?.jobs.me?.line, 'Retail Manager');

  const secrets = h.idp.issuedSecrets();
  assert.ok(secrets.length >= 4);
  assert.deepEqual(leakedSecrets(secrets, out + text.stderr + json.stdout + json.stderr), []);
  assert.ok(!/secretish/.test(out + json.stdout), 'Graph data is not part of the status');
});

test('status without a usable key still describes the file, and says why there is no key', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  await writeFile(h.config.cache.path, encodeCache(accountEntry('x', h.config.auth.clientId), randomBytes(32), h.config.auth.clientId), { mode: 0o600 });
  const { code, stdout } = await h.run(statusCommand, {});
  assert.equal(code, 0);
  assert.match(stdout, /Account: +unknown/);
  assert.match(stdout, /Key: +none usable: .*no token cache key found/);
  assert.match(stdout, /Cache file: +.*, \d+ bytes, mode 0600, .*NOT readable: not checked: no key/);
  assert.match(stdout, /Agent: +no status file/);
  const r = JSON.parse((await h.run(statusCommand, { json: true })).stdout) as StatusReport;
  assert.equal(r.key.source, null);
  assert.equal(r.accounts, null);
  assert.equal(r.cache.exists, true);

  // A credential directory without the credential: the same ConfigError text as the agent's.
  const creds = path.join(h.dir, 'creds');
  const withCreds = await h.run(statusCommand, {}, { CREDENTIALS_DIRECTORY: creds });
  assert.match(withCreds.stdout, /Key: +none usable: .*LoadCredentialEncrypted=token-cache-key:/);
});

test('status of an unreadable cache names the reason and the moved-aside files, and moves nothing', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  await writeKeyFile(h.config.cache.keyFile);
  await writeFile(h.config.cache.path, encodeCache(accountEntry('x', h.config.auth.clientId), randomBytes(32), h.config.auth.clientId), { mode: 0o600 });
  await writeFile(`${h.config.cache.path}.unreadable-20250101T000000Z`, 'old');
  const before = (await readdir(h.dir)).sort();
  const { code, stdout } = await h.run(statusCommand, {});
  assert.equal(code, 0);
  assert.match(stdout, /NOT readable: token cache .* does not decrypt with the configured key/);
  assert.match(stdout, /moved aside: .*token-cache\.bin\.unreadable-20250101T000000Z/);
  assert.deepEqual((await readdir(h.dir)).sort(), before);

  await rm(h.config.cache.path);
  const none = await h.run(statusCommand, {});
  assert.match(none.stdout, /Account: +none signed in/);
  assert.match(none.stdout, /Cache file: +.* \(does not exist yet\)/);
});

test('an agent that stopped, died or stopped updating its status file is not reported as running', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const file = path.join(h.dir, 'status.json');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const cases: Array<[string, object]> = [
    ['stopped', { state: 'stopped', healthy: false, updatedAt: new Date().toISOString(), pid: process.pid }],
    ['dead pid', { state: 'signed-in', healthy: true, updatedAt: new Date().toISOString(), pid: dead }],
    ['stale', { state: 'signed-in', healthy: true, updatedAt: new Date(Date.now() - 3600_000).toISOString(), pid: process.pid }],
  ];
  for (const [name, content] of cases) {
    await writeFile(file, JSON.stringify(content));
    const r = JSON.parse((await h.run(statusCommand, { json: true })).stdout) as StatusReport;
    assert.equal(r.agent?.running, false, name);
    assert.match((await h.run(statusCommand, {})).stdout, /Agent: +not running/, name);
  }
});

test('token dates: a refresh token\'s expiry when the cache has one, "unknown" when not; expired access tokens flagged', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const s = (iso: string): string => String(Date.parse(iso) / 1000);
  const cache = JSON.parse(accountEntry('ada')) as Record<string, Record<string, Record<string, unknown>>>;
  const rtKey = Object.keys(cache.RefreshToken!)[0]!;
  cache.RefreshToken![rtKey]!.expires_on = s('2030-03-01T00:00:00Z');
  cache.AccessToken = {
    old: { home_account_id: 'ada.tid1', environment: 'login.microsoftonline.com', target: 'User.Read', cached_at: s('2029-12-31T22:00:00Z'), expires_on: s('2029-12-31T23:00:00Z'), secret: 'at-secret' },
  };
  const [a] = summarizeAccounts(JSON.stringify(cache), now);
  assert.equal(a?.accessTokens[0]?.expired, true);
  assert.equal(a?.refreshToken?.expiresAt, '2030-03-01T00:00:00.000Z');
  assert.equal(a?.refreshToken?.expired, false);
  assert.equal(a?.refreshToken?.issuedAt, '2029-12-31T22:00:00.000Z');
  assert.equal(a?.refreshToken?.issuedAtInferred, true);
  assert.ok(!JSON.stringify(a).includes('secret'), 'a secret reached the summary');

  delete cache.RefreshToken![rtKey]!.expires_on;
  cache.AccessToken = {};
  const [b] = summarizeAccounts(JSON.stringify(cache), now);
  assert.deepEqual(b?.refreshToken, { issuedAt: null, expiresAt: null });
  cache.RefreshToken = {};
  assert.equal(summarizeAccounts(JSON.stringify(cache), now)[0]?.refreshToken, null);
});

test('status says which button driver the agent uses and why', async (t) => {
  const h = await startCommandHarness({ config: { button: { driver: 'gpio' } } });
  t.after(() => h.close());
  const { stdout } = await h.run(statusCommand, {});
  assert.match(stdout, /Button: +gpio: button\.driver is "gpio"/);
  const r = JSON.parse((await h.run(statusCommand, { json: true })).stdout) as StatusReport;
  assert.deepEqual(r.button, { setting: 'gpio', driver: 'gpio', why: 'button.driver is "gpio"' });
});
