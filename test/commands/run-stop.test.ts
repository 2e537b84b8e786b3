import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startHarness, RecordingDisplay } from '../support/agent-harness.js';
import { runDaemon } from '../../src/commands/run.js';
import type { StatusFileContent } from '../../src/service/status-file.js';

/**
 * Stop in order: the final status first, then the slow parts. A display that takes its time to
 * close (a hung bus) must find status.json already saying "stopped", and the log's last line is
 * agent.stopped.
 */
test('SIGTERM: status.json says stopped before the slow parts run; agent.stopped is the last line; no temp file left', async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const statusFile = path.join(h.dir, 'status.json');
  let statusAtClose: Partial<StatusFileContent> | undefined;
  class SlowToClose extends RecordingDisplay {
    override async close(): Promise<void> {
      statusAtClose = JSON.parse(await readFile(statusFile, 'utf8')) as Partial<StatusFileContent>;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  let stop!: (signal: string) => void;
  const stopSignal = new Promise<string>((resolve) => (stop = resolve));
  const running = runDaemon(h.config, { logger: h.logs.logger, overrides: { display: new SlowToClose() }, stopSignal });
  await h.idp.waitForDeviceCode();
  stop('SIGTERM');
  assert.equal(await running, 0);
  assert.equal(statusAtClose?.state, 'stopped', 'the status said stopped before the display was released');
  const final = JSON.parse(await readFile(statusFile, 'utf8')) as Partial<StatusFileContent>;
  assert.equal(final.state, 'stopped', 'and still says so at the end');
  assert.equal(h.logs.lines().at(-1)?.event, 'agent.stopped');
  assert.deepEqual((await readdir(h.dir)).filter((f) => f.includes('.tmp') || f.startsWith('.status')), [], 'no temp file left');
});
