import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LAST_GRAPH_FILE, readLastGraph, recordGraphRun } from '../../src/graph/last-run.js';
import type { JobRun } from '../../src/graph/jobs.js';

function run(job: string, startedAt: string): JobRun {
  return {
    job, path: `/${job}`, reason: 'scheduled', startedAt, durationMs: 100, ok: true, line: `line of ${job}`,
    result: { ok: true, status: 200, data: {}, requestId: 'r', attempts: 1 },
  };
}

test('last-graph.json lives in the runtime directory (tmpfs under systemd), and status reads the newest copy', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'gda-last-run-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const state = path.join(root, 'state');
  const runtime = path.join(root, 'run');
  const env = { RUNTIME_DIRECTORY: runtime };

  // An older agent (or one started by hand) left a copy in the state folder.
  await recordGraphRun(state, run('me', '2030-01-01T10:00:00.000Z'));
  // The service writes to $RUNTIME_DIRECTORY, and nothing more to the state folder.
  await recordGraphRun(runtime, run('manager', '2030-01-01T11:00:00.000Z'));
  assert.deepEqual(await readdir(runtime), [LAST_GRAPH_FILE]);

  const newest = await readLastGraph(state, env);
  assert.equal(newest?.last.job, 'manager', 'the runtime copy is newer');
  assert.equal(newest?.jobs.manager?.line, 'line of manager');

  // Without RUNTIME_DIRECTORY (a terminal): the state folder's copy.
  assert.equal((await readLastGraph(state, {}))?.last.job, 'me');
});
