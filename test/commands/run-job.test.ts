import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startHarness, type Harness } from '../support/agent-harness.js';
import { captureLogs } from '../support/log-capture.js';
import { runJobCommand, SIGN_IN_FIRST } from '../../src/commands/run-job.js';
import { ConfigError } from '../../src/config/index.js';

/**
 * `graph-device-agent run-job NAME`: one job, once, from the shell, with the sign-in the agent
 * left in the encrypted cache, through the real msal-node and GraphClient to the emulator.
 */

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

interface Setup {
  h: Harness;
  configPath: string;
}

/** The emulator, and a config file on disk pointing at it, as a person would write one. */
async function setup(t: TestContext): Promise<Setup> {
  const h = await startHarness();
  t.after(() => h.close());
  const configPath = path.join(h.dir, 'config.json');
  await writeFile(configPath, JSON.stringify({
    auth: { clientId: h.config.auth.clientId, authority: h.idp.authority, knownAuthorities: [h.idp.knownAuthority] },
    graph: {
      baseUrl: h.idp.graphBaseUrl, allowedHosts: [new URL(h.idp.graphBaseUrl).host],
      jobs: [
        { name: 'me', schedule: '*/15 * * * *', path: '/me', line: '{jobTitle}', outputFile: 'me.json' },
        { name: 'manager', schedule: '*/15 * * * *', path: '/me/manager', line: 'Manager: {displayName}' },
        { name: 'next-event', schedule: '*/5 * * * *', path: '/me/calendarView?startDateTime={now}&endDateTime={now+1d}&$orderby=start/dateTime&$top=1&$select=subject,start', line: 'Next: {value.0.subject}' },
      ],
    },
    network: { caFile: h.idp.caFile },
    stateDirectory: h.dir,
  }));
  return { h, configPath };
}

/** Signs in through the agent, as `run` would have done earlier, and stops it. */
async function signInWithAgent(h: Harness): Promise<void> {
  const agent = await h.startAgent();
  h.idp.approve((await bounded('a device code', h.idp.waitForDeviceCode())).userCode);
  await bounded('state signed-in', agent.waitFor('signed-in'));
  await agent.stop();
}

async function runJob(s: Setup, name: string, extra: { json?: boolean; uid?: number } = {}): Promise<{ code: number; stdout: string; stderr: string; logs: string[] }> {
  const stdout = new Collect();
  const stderr = new Collect();
  const logs = captureLogs('debug');
  const code = await runJobCommand(
    { configPath: s.configPath, name, ...(extra.json !== undefined ? { json: extra.json } : {}) },
    { stdout, stderr, logger: logs.logger, env: {}, ...(extra.uid !== undefined ? { uid: extra.uid } : {}) },
  );
  return { code, stdout: stdout.text, stderr: stderr.text, logs: logs.raw };
}

/** `promise`, or a failure naming `what` if it has not settled in time (instead of a hung test). */
async function bounded<T>(what: string, promise: Promise<T>, limitMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never happened: ${what}`)), limitMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const deviceCodeRequests = (h: Harness): number => h.idp.requests.filter((r) => r.endpoint === 'devicecode').length;
const graphRequests = (h: Harness, p: string): number => h.idp.requests.filter((r) => r.endpoint === 'graph' && r.path === `/v1.0${p}`).length;

test('prints the job\'s line and its JSON result, using the cached sign-in', async (t) => {
  const s = await setup(t);
  await signInWithAgent(s.h);
  const codes = deviceCodeRequests(s.h);
  const calls = graphRequests(s.h, '/me');

  const r = await runJob(s, 'me');
  assert.equal(r.code, 0, r.stderr);
  const [line, ...rest] = r.stdout.trimEnd().split('\n');
  assert.equal(line, 'Retail Manager');
  const data = JSON.parse(rest.join('\n')) as Record<string, unknown>;
  assert.equal(data['displayName'], 'Adele Vance');
  assert.equal(graphRequests(s.h, '/me'), calls + 1, 'one Graph call');
  assert.equal(deviceCodeRequests(s.h), codes, 'no device code');
  // Like the daemon's run: the output file has the result for other programs.
  const written = JSON.parse(await readFile(path.join(s.h.dir, 'me.json'), 'utf8')) as { ok: boolean; line: string };
  assert.deepEqual([written.ok, written.line], [true, 'Retail Manager']);
  // No token in anything it printed or logged.
  const everything = [r.stdout, r.stderr, ...r.logs].join('\n');
  for (const secret of s.h.idp.issuedSecrets()) assert.ok(!everything.includes(secret), 'a token was printed or logged');
});

test('--json prints one JSON document: the run, as the output file has it', async (t) => {
  const s = await setup(t);
  await signInWithAgent(s.h);
  const r = await runJob(s, 'next-event', { json: true });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { job: string; ok: boolean; line: string; status: number; requestId: string; data: { value: Array<{ subject: string }> } };
  assert.equal(doc.job, 'next-event');
  assert.equal(doc.ok, true);
  assert.equal(doc.status, 200);
  assert.equal(doc.line, 'Next: Team stand-up');
  assert.deepEqual(doc.data.value.map((e) => e.subject), ['Team stand-up'], 'the {now} window and $top reached Graph');
  assert.match(doc.requestId, /^[0-9a-f-]{36}$/);
});

test('without a sign-in it exits 1, says to sign in first, and asks for no device code', async (t) => {
  const s = await setup(t);
  const r = await runJob(s, 'me');
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(SIGN_IN_FIRST));
  assert.equal(r.stdout, '');
  assert.equal(s.h.idp.requests.length, 0, 'nothing was asked of the server');
});

test('after a sign-out (an empty cache) it says to sign in first', async (t) => {
  const s = await setup(t);
  const agent = await s.h.startAgent();
  s.h.idp.approve((await bounded('a device code', s.h.idp.waitForDeviceCode())).userCode);
  await bounded('state signed-in', agent.waitFor('signed-in'));
  agent.button.hold(); // sign out: a hold, then a press to confirm
  await bounded('state confirm-sign-out', agent.waitFor('confirm-sign-out'));
  agent.button.press();
  await bounded('state needs-press', agent.waitFor('needs-press'));
  await agent.stop();
  const codes = deviceCodeRequests(s.h);

  const r = await runJob(s, 'me');
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(SIGN_IN_FIRST));
  assert.equal(deviceCodeRequests(s.h), codes);
});

test('a revoked sign-in exits 1 with "sign in first", not a device code', async (t) => {
  const s = await setup(t);
  await signInWithAgent(s.h);
  s.h.idp.revokeRefreshTokens();
  // Graph says the access token is no longer good: the refresh it forces is refused.
  s.h.idp.faults.push({ endpoint: 'graph', status: 401, match: (r) => r.path === '/v1.0/me' });
  const codes = deviceCodeRequests(s.h);

  const r = await runJob(s, 'me');
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(SIGN_IN_FIRST));
  assert.equal(deviceCodeRequests(s.h), codes);
});

test('a Graph refusal exits 1 with the reason; --json still prints the run', async (t) => {
  const s = await setup(t);
  await signInWithAgent(s.h);
  s.h.idp.faults.push({ endpoint: 'graph', status: 403, count: 2, match: (r) => r.path === '/v1.0/me/manager' });

  const human = await runJob(s, 'manager');
  assert.equal(human.code, 1);
  assert.equal(human.stdout, '');
  assert.match(human.stderr, /job manager failed: Needs User\.Read\.All/);
  assert.match(human.stderr, /request-id [0-9a-f-]{36}/);

  const json = await runJob(s, 'manager', { json: true });
  assert.equal(json.code, 1);
  const doc = JSON.parse(json.stdout) as { ok: boolean; error: { kind: string; code: string } };
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.error.kind, 'forbidden');
  assert.equal(doc.error.code, 'Authorization_RequestDenied');
});

test('an unknown job name exits 1 and lists the jobs', async (t) => {
  const s = await setup(t);
  const r = await runJob(s, 'calendar');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no job named "calendar"/);
  assert.match(r.stderr, /me, manager, next-event/);
});

test('a cache it cannot decrypt is left where it is (it may be the agent\'s)', async (t) => {
  const s = await setup(t);
  await signInWithAgent(s.h);
  const cacheFile = path.join(s.h.dir, 'token-cache.bin');
  const before = await readFile(cacheFile);
  // Another key than the one the cache was written with.
  await writeFile(path.join(s.h.dir, 'token-cache.key'), 'ab'.repeat(32), { mode: 0o600 });

  const r = await runJob(s, 'me');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot be used here/);
  assert.deepEqual(await readFile(cacheFile), before, 'the cache is untouched');
  assert.deepEqual((await readdir(s.h.dir)).filter((f) => f.includes('unreadable')), [], 'nothing was moved aside');
});

test('run as another user than the cache\'s owner, it refuses (a refresh would lock the agent out)', async (t) => {
  const s = await setup(t);
  await signInWithAgent(s.h);
  const calls = graphRequests(s.h, '/me');
  const r = await runJob(s, 'me', { uid: (process.getuid?.() ?? 0) + 4242 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /belongs to uid \d+ and this runs as uid \d+/);
  assert.equal(graphRequests(s.h, '/me'), calls);
});

test('a job path with a placeholder other than {now±N} is a config error naming the job', async (t) => {
  const s = await setup(t);
  const config = JSON.parse(await readFile(s.configPath, 'utf8')) as { graph: { jobs: Array<{ path: string }> } };
  config.graph.jobs[2]!.path = '/me/calendarView?startDateTime={today}&endDateTime={now+1d}';
  await writeFile(s.configPath, JSON.stringify(config));
  await assert.rejects(runJob(s, 'me'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.report(), /job "next-event".*unknown placeholder "\{today\}"/);
    return true;
  });
});
