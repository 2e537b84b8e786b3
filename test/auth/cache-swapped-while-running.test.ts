import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readlink, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/agent-harness.js';

/**
 * Issue 13, point 0, at run time: the configuration check refuses a foreign cache.path at start,
 * but the file can become foreign later (replaced while the agent runs). What the running agent
 * does then is pinned here: the foreign file is never renamed, replaced or deleted, and the
 * problem is logged once, naming cache.path. (A foreign file present at the first read goes the
 * same way: the first read is the same refresh() → load() path.)
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

test('a foreign file put at cache.path while the agent runs is left untouched, and said once, naming cache.path', async (t) => {
  // Access tokens shorter than msal-node's 5-minute margin: every run reads the cache and refreshes.
  const h = await startHarness({ emulator: { accessTokenLifetimeSec: 120 } });
  t.after(() => h.close());
  const agent = await signedIn(h);
  const foreign = 'name,email\nAdele,adele@contoso.com\n';
  await writeFile(`${h.config.cache.path}.new`, foreign);
  await rename(`${h.config.cache.path}.new`, h.config.cache.path);

  agent.button.press();
  // What happens today: the cache read finds the foreign file, the tokens read from it are
  // dropped, and the agent asks for a new sign-in (a new code on the screen); what a person then
  // signs in is kept in memory only. Issue 13 point 0 asks for a config error (exit 78) instead:
  // not done yet, see the report on branch s20-hostile.
  await agent.waitFor('showing-code');
  await sleep(200);
  assert.equal(await readFile(h.config.cache.path, 'utf8'), foreign, 'the foreign file is untouched');
  const notOurs = h.logs.lines().filter((l) => l.event === 'cache.not_ours');
  assert.equal(notOurs.length, 1, 'said once');
  assert.match(String(notOurs[0]!.msg), /^cache\.path: .* not a token cache of this agent; it is left untouched and not overwritten/);
  assert.ok(!h.logs.lines().some((l) => l.event === 'cache.written' && h.logs.lines().indexOf(l) > h.logs.lines().indexOf(notOurs[0]!)), 'never written over');
  assert.equal(h.logs.lines().filter((l) => l.event === 'cache.not_ours').length, 1, 'said once, not on every poll');
});

test('cache.path replaced by a link to /dev/null while the agent runs: the link stays, the tokens in memory keep working', async (t) => {
  const h = await startHarness({ emulator: { accessTokenLifetimeSec: 120 } });
  t.after(() => h.close());
  const agent = await signedIn(h);
  await unlink(h.config.cache.path);
  await symlink('/dev/null', h.config.cache.path);

  const mark = h.logs.lines().length;
  agent.button.press();
  await until('a run after the swap', () => h.logs.lines().slice(mark).some((l) => l.event === 'graph.job'));
  assert.equal(await readlink(h.config.cache.path), '/dev/null', 'the link is untouched');
  const run = h.logs.lines().slice(mark).find((l) => l.event === 'graph.job')!;
  assert.equal(run.ok, true, 'the job still gets a token');
  const unreadable = h.logs.lines().filter((l) => l.event === 'cache.unreadable');
  assert.equal(unreadable.length, 1, 'said once');
  assert.match(String(unreadable[0]!.msg), /is a symbolic link .*check cache\.path.*the file is not overwritten/);
  assert.equal(agent.app.agent.state.name, 'signed-in');
});
