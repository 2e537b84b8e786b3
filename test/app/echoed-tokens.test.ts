import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness } from '../support/agent-harness.js';
import type { Fault, FaultRequest } from '../support/identity-emulator/faults.js';
import { LAST_GRAPH_FILE } from '../../src/graph/last-run.js';

/**
 * Issue 13, point 4: a proxy (or a buggy server) echoes the request's Authorization header, and
 * every token it has seen, into Graph's error message. The real agent, logging at debug (the harness's level), must
 * keep them out of every log line, `last-graph.json` and the jobs' output files.
 */

async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await sleep(20);
  }
}

test('tokens a server echoes into a 401 or a 500 never reach the log, last-graph.json or a job output', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const meFile = path.join(h.dir, 'me.json');
  const managerFile = path.join(h.dir, 'manager.json');
  h.config.graph.jobs = [
    { name: 'me', schedule: '0 0 1 1 *', path: '/me', line: '{jobTitle}', timeoutSec: 5, outputFile: meFile },
    { name: 'manager', schedule: '0 0 1 1 *', path: '/me/manager', line: '{displayName}', timeoutSec: 5, outputFile: managerFile },
  ];
  // The body is written when the request arrives: the bearer token it carries, and every token
  // issued so far (access, refresh, id), in the message, the code and the inner request id.
  const echoing = (status: number, graphPath: string, count: number): Fault => {
    const fault: Fault = {
      endpoint: 'graph', status, count,
      match: (r: FaultRequest) => {
        if (r.path !== graphPath) return false;
        const tokens = h.idp.issuedSecrets().filter((s) => s.startsWith('eyJ') || s.startsWith('1.A'));
        fault.body = {
          error: {
            code: `Echo ${String(r.headers.authorization)}`,
            message: `${String(r.headers.authorization)}\nproxy saw: ${tokens.join(' ')}`,
            innerError: { 'request-id': String(r.headers.authorization) },
          },
        };
        return true;
      },
    };
    return fault;
  };
  // 401 twice (the one refresh does not help), 500 on every attempt.
  h.idp.faults.push(echoing(401, '/v1.0/me', 2), echoing(500, '/v1.0/me/manager', 10));

  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  const finished = (job: string): boolean => h.logs.lines().some((l) => l.event === 'graph.job' && l.job === job);
  await until('both jobs failed', () => finished('me') && finished('manager'));
  const lastGraph = path.join(h.dir, LAST_GRAPH_FILE);
  await until('last-graph.json has both runs', async () => {
    const text = await readFile(lastGraph, 'utf8').catch(() => '');
    return text.includes('"manager"') && text.includes('"me"');
  });
  await agent.stop();

  const files: Record<string, string> = {
    log: h.logs.raw.join('\n'),
    [LAST_GRAPH_FILE]: await readFile(lastGraph, 'utf8'),
    'me.json': await readFile(meFile, 'utf8'),
    'manager.json': await readFile(managerFile, 'utf8'),
  };
  // The faults were served, and what they said got this far (redacted).
  const bodies = h.logs.lines().filter((l) => l.event === 'graph.response' && (l.status === 401 || l.status === 500));
  assert.ok(bodies.length >= 3, `the echoing bodies were logged at debug (${bodies.length})`);
  const me = JSON.parse(files['me.json']!) as { ok: boolean; error: { kind: string; message: string } };
  assert.equal(me.error.kind, 'unauthorized');
  assert.match(me.error.message, /Bearer \[redacted\]/);
  const manager = JSON.parse(files['manager.json']!) as { ok: boolean; error: { kind: string; message: string } };
  assert.equal(manager.error.kind, 'server');
  assert.match(manager.error.message, /\[redacted\]/);

  const secrets = h.idp.issuedSecrets().filter((s) => s.startsWith('eyJ') || s.startsWith('1.A'));
  assert.ok(secrets.length >= 6, 'tokens were issued, and refreshed');
  for (const [where, text] of Object.entries(files)) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `an issued token (${secret.slice(0, 8)}…) appears in ${where}`);
      for (const part of secret.split('.').filter((p) => p.length >= 16)) assert.ok(!text.includes(part), `a part of a token appears in ${where}`);
    }
  }
});
