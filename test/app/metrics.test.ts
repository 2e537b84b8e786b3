import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness } from '../support/agent-harness.js';
import { requireTool } from '../metrics/require-tool.js';
import { METRICS_FILE_NAME } from '../../src/metrics/textfile.js';

/**
 * The metrics as an operator's Prometheus sees them: the real agent signs in against the identity
 * emulator, one job works and one is refused (403), and a real prometheus-node-exporter, with
 * only its textfile collector, serves the file over HTTP on a loopback port.
 */

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(what: string, check: () => Promise<boolean>, limitMs = 15_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await sleep(50);
  }
}

/** `name{labels} value` lines of a scrape, as a map from the series to its value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

test('node_exporter serves the agent\'s metrics after a sign-in and a failing job', async (t) => {
  if (!requireTool(t, 'prometheus-node-exporter', 'prometheus-node-exporter')) return;
  if (!requireTool(t, 'promtool', 'prometheus')) return;
  const started = Date.now() / 1000;
  const h = await startHarness({
    emulator: { enforceGraphScopes: true },
    config: { auth: { scopes: ['User.Read'] }, metrics: { minIntervalSec: 1 } },
  });
  t.after(() => h.close());
  const directory = path.join(h.dir, 'node-exporter');
  await mkdir(directory);
  h.config.metrics.textfileDirectory = directory;
  h.config.graph.jobs = [
    { name: 'me', schedule: '0 0 1 1 *', path: '/me', line: '{jobTitle}', timeoutSec: 5 },
    // Needs User.Read.All, which the app did not ask for: Graph answers 403.
    { name: 'manager', schedule: '0 0 1 1 *', path: '/me/manager', line: 'Manager: {displayName}', timeoutSec: 5 },
  ];
  const file = path.join(directory, METRICS_FILE_NAME);

  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  await until('both jobs in the metrics file', async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    return /job_runs_total\{job="me",result="ok"\} 1/.test(text) && /job_runs_total\{job="manager",result="failed"\} 1/.test(text);
  });
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  const check = spawnSync('promtool', ['check', 'metrics'], { input: await readFile(file), encoding: 'utf8' });
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);

  const port = await freePort();
  const exporter = spawn('prometheus-node-exporter', [
    `--web.listen-address=127.0.0.1:${port}`, '--collector.disable-defaults', '--collector.textfile',
    `--collector.textfile.directory=${directory}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let exporterLog = '';
  exporter.stderr.on('data', (d: Buffer) => (exporterLog += d.toString()));
  t.after(() => exporter.kill());
  let scrape = '';
  await until('node_exporter answers', async () => {
    try {
      scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return scrape.includes('graph_device_agent_');
    } catch {
      return false;
    }
  }).catch((err: Error) => assert.fail(`${err.message}\n${exporterLog}`));

  const s = samples(scrape);
  assert.equal(s.get('node_textfile_scrape_error'), 0, 'node_exporter parsed the file');
  assert.equal(s.get('graph_device_agent_signed_in'), 1);
  assert.equal(s.get('graph_device_agent_state{state="signed-in"}'), 1);
  assert.equal(s.get('graph_device_agent_state{state="showing-code"}'), 0);
  assert.equal(s.get('graph_device_agent_device_codes_issued_total'), 1);
  assert.equal(s.get('graph_device_agent_job_runs_total{job="me",result="ok"}'), 1);
  assert.equal(s.get('graph_device_agent_job_failures_total{job="manager",kind="forbidden"}'), 1);
  assert.ok(!s.has('graph_device_agent_job_last_success_timestamp_seconds{job="manager"}'), 'the refused job never succeeded');
  const meOk = s.get('graph_device_agent_job_last_success_timestamp_seconds{job="me"}')!;
  const tokenOk = s.get('graph_device_agent_token_last_success_timestamp_seconds')!;
  const now = Date.now() / 1000;
  for (const [what, at] of [['me', meOk], ['token', tokenOk]] as const) assert.ok(at >= started && at <= now, `${what}: ${at}`);
  assert.doesNotMatch(scrape, /Adele|contoso/i, 'no UPN, no name without metrics.includeAccount');

  await agent.stop();
  await until('the file says stopping', async () => /graph_device_agent_state\{state="stopping"\} 1/.test(await readFile(file, 'utf8')));
});
