import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, readlink, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/agent-harness.js';

/**
 * Issue 13, point 0, at run time: the configuration check refuses a foreign cache.path at start,
 * but the file can become foreign later (replaced while the agent runs, or between the check and
 * the first read). Then the running agent stops as a bad configuration does at start: the cache
 * logs `cache.not_ours` once, the app reports a config error naming cache.path (`run` exits 78
 * on it: test/cli.test.ts), the agent stops at once (no new code goes up), and the file is never
 * renamed, replaced, deleted or written over.
 */

async function until(what: string, check: () => boolean, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await sleep(10);
  }
}

async function signedIn(h: Harness): Promise<Awaited<ReturnType<Harness['startAgent']>>> {
  h.config.graph.jobs = [{ name: 'me', schedule: '0 0 1 1 *', path: '/me', line: '{jobTitle}', timeoutSec: 2 }];
  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  await until('the first run', () => h.logs.lines().some((l) => l.event === 'graph.job'));
  return agent;
}

/** What the running agent did once it read the swapped path: the config stop, and nothing else. */
async function assertConfigStop(h: Harness, agent: Awaited<ReturnType<Harness['startAgent']>>, mark: number, what: RegExp): Promise<void> {
  const problem = await agent.app.configProblem;
  assert.equal(problem.problems.length, 1);
  assert.match(problem.problems[0]!, /^cache\.path: /);
  assert.match(problem.problems[0]!, what);
  assert.match(problem.problems[0]!, /it is left untouched: move that file away or point cache\.path elsewhere, then start the agent$/);
  assert.match(problem.report(), /^config error in .*config\.json: cache\.path: /);
  await agent.waitFor('stopping');
  await sleep(200);
  const after = h.logs.lines().slice(mark);
  const notOurs = after.filter((l) => l.event === 'cache.not_ours');
  assert.equal(notOurs.length, 1, 'said once');
  assert.match(String(notOurs[0]!.msg), /^cache\.path: .* not a token cache of this agent; it is left untouched and not overwritten/);
  assert.ok(!after.some((l) => l.event === 'cache.written'), 'never written over');
  assert.ok(!after.some((l) => l.event === 'device_code.issued'), 'no new code goes up');
  assert.ok(!after.some((l) => l.event === 'state.changed' && l.to === 'showing-code'), 'no code screen');
  assert.equal(agent.app.agent.state.name, 'stopping');
}

test('a foreign file put at cache.path while the agent runs: a config error naming cache.path, the file untouched', async (t) => {
  // Access tokens shorter than msal-node's 5-minute margin: every run reads the cache and refreshes.
  const h = await startHarness({ emulator: { accessTokenLifetimeSec: 120 } });
  t.after(() => h.close());
  const agent = await signedIn(h);
  const foreign = 'name,email\nAdele,adele@contoso.com\n';
  await writeFile(`${h.config.cache.path}.new`, foreign);
  await rename(`${h.config.cache.path}.new`, h.config.cache.path);

  const mark = h.logs.lines().length;
  agent.button.press();
  await assertConfigStop(h, agent, mark, /does not start with the cache header \("GDAC"\), so it is not a token cache of this agent/);
  assert.equal(await readFile(h.config.cache.path, 'utf8'), foreign, 'the foreign file is untouched');
  await agent.stop();
  assert.equal(await readFile(h.config.cache.path, 'utf8'), foreign, 'and after the stop');
});

test('cache.path replaced by a link to /dev/null while the agent runs: the same config stop, the link untouched', async (t) => {
  const h = await startHarness({ emulator: { accessTokenLifetimeSec: 120 } });
  t.after(() => h.close());
  const agent = await signedIn(h);
  await unlink(h.config.cache.path);
  await symlink('/dev/null', h.config.cache.path);

  const mark = h.logs.lines().length;
  agent.button.press();
  await assertConfigStop(h, agent, mark, /is a symbolic link to \/dev\/null/);
  await agent.stop();
  assert.equal(await readlink(h.config.cache.path), '/dev/null', 'the link is untouched');
});

test('a FIFO put at cache.path before the first read: the same config stop, no code shown', async (t) => {
  const h = await startHarness({ emulator: { accessTokenLifetimeSec: 120 } });
  t.after(() => h.close());
  // The start check (config/paths.ts) has passed: the path was free when the config was read.
  if (spawnSync('mkfifo', [h.config.cache.path]).status !== 0) return t.skip('no mkfifo');
  const agent = await h.startAgent();
  await assertConfigStop(h, agent, 0, /is a FIFO, not a file/);
  await agent.stop();
  assert.ok((await lstat(h.config.cache.path)).isFIFO(), 'the FIFO is untouched');
});
