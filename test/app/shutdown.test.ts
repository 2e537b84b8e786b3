import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, rmdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startIdentityEmulator, type IdentityEmulator, type IdentityEmulatorOptions } from '../support/identity-emulator/index.js';
import { decodeCache, parseKey } from '../../src/auth/cache/index.js';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';

/**
 * SIGTERM in each state a device can be in when systemd stops it: a code on the screen, a poll
 * in flight, a Graph job in flight, a token-cache write in progress. Each time the process must
 * exit 0 by itself, with the orderly stop finished before commands/run.ts's 2-second deadline (no
 * `agent.stop_timeout` line: that deadline exits 0 too, but cuts the stop short), the panel
 * blanked or showing "Stopped", the GPIO line released, and the token cache intact.
 *
 * The process is the real daemon (runDaemon, its own signal handling) with the two pieces of
 * hardware replaced by the test doubles the suite trusts: the SSD1306 driver on the SSD1306
 * emulator, and the GPIO button driver on the fake GPIO board. At exit it prints what the panel
 * shows and whether the line is still exported.
 */

const REPO = pathToFileURL(`${path.resolve(import.meta.dirname, '../..')}/`).href;
const CLIENT_ID = 'd1f4e3c2-1111-2222-3333-444455556666';
/** BCM GPIO17 on a Pi 4 with kernel 6.6: the pin controller's sysfs base is 512. */
const SYSFS_PIN = 529;

/** The daemon with an emulated panel and a fake GPIO board; its exit report goes to stderr. */
const DAEMON = `
import { writeSync } from 'node:fs';
const at = (p) => new URL(p, process.env.REPO_URL).href;
const { loadConfigFile } = await import(at('src/config/index.ts'));
const { createLogger } = await import(at('src/log.ts'));
const { Ssd1306Display } = await import(at('src/display/ssd1306/index.ts'));
const { GpioButton } = await import(at('src/button/gpio.ts'));
const { Ssd1306Emulator } = await import(at('test/support/ssd1306-emulator.ts'));
const { FakeGpioBoard } = await import(at('test/support/fake-gpio.ts'));
const { decodeAll } = await import(at('test/display/decode-text.ts'));

const config = loadConfigFile(process.env.AGENT_CONFIG);
const logger = createLogger({ level: config.log.level });
const board = FakeGpioBoard.pi4();
await board.writeSysfs(process.env.AGENT_SYSFS);
const button = new GpioButton({ bcmPin: 17, sysfsRoot: process.env.AGENT_SYSFS, gpioFactory: board.Gpio, bounceTimeMs: 30, holdTimeMs: 2000, logger });
const panel = new Ssd1306Emulator();
const display = new Ssd1306Display({ bus: 1, address: 0x3c, width: 128, height: 64, controller: 'ssd1306', logger, openBus: async () => panel });
process.on('exit', (code) => {
  const frame = panel.visibleFrame();
  const report = { code, gpioExported: board.isExported(${SYSFS_PIN}), panelOn: panel.displayOn, lit: frame.litCount(), text: decodeAll(frame).map((r) => r.text) };
  writeSync(2, 'EXIT-REPORT ' + JSON.stringify(report) + '\\n');
});
const { runDaemon } = await import(at('src/commands/run.ts'));
process.exit(await runDaemon(config, { logger, overrides: { display, extraButton: button } }));
`;

interface ExitReport {
  code: number;
  gpioExported: boolean;
  panelOn: boolean;
  lit: number;
  text: string[];
}

class Daemon {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  stderr = '';
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      for (const raw of parts) if (raw.startsWith('{')) this.lines.push(JSON.parse(raw) as Record<string, unknown>);
      this.wake();
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    void this.exited.then(() => this.wake());
  }

  has(event: string): boolean {
    return this.lines.some((l) => l.event === event);
  }

  /** Resolves when `check` holds; fails (instead of hanging) when the daemon exits first or after 30 s. */
  async until(what: string, check: () => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!check()) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) assert.fail(`the daemon exited before ${what}: ${this.stderr}`);
      if (Date.now() > deadline) assert.fail(`never happened: ${what}\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async event(name: string): Promise<Record<string, unknown>> {
    await this.until(`a ${name} line`, () => this.has(name));
    return this.lines.find((l) => l.event === name)!;
  }

  /** SIGTERM, then what the process did about it. */
  async terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; report: ExitReport }> {
    this.child.kill('SIGTERM');
    // A daemon that ignored SIGTERM would hang the test: killed after 15 s, and the test fails.
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const [code, signal] = await this.exited;
    clearTimeout(killer);
    const line = this.stderr.split('\n').find((l) => l.startsWith('EXIT-REPORT '));
    assert.ok(line, `the daemon printed its exit report; stderr: ${this.stderr}`);
    return { code, signal, report: JSON.parse(line.slice('EXIT-REPORT '.length)) as ExitReport };
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}

interface Setup {
  idp: IdentityEmulator;
  dir: string;
  config: string;
  cachePath: string;
  keyPath: string;
  start(): Daemon;
}

async function setup(t: TestContext, emulator: IdentityEmulatorOptions = {}): Promise<Setup> {
  const idp = await startIdentityEmulator({ intervalSec: 0.1, deviceCodeLifetimeSec: 300, ...emulator });
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-shutdown-'));
  const daemons: Daemon[] = [];
  t.after(async () => {
    for (const d of daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });
  const state = path.join(dir, 'state');
  const config = path.join(dir, 'config.json');
  await writeFile(config, JSON.stringify({
    auth: { clientId: CLIENT_ID, authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
    graph: { baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host] },
    network: { caFile: idp.caFile, timeoutSec: 30 },
    display: { driver: 'none' }, // the emulated SSD1306 comes in through the overrides
    signIn: { minPollIntervalSec: 0.05 },
    log: { level: 'debug' },
    stateDirectory: state,
  }));
  const sysfs = path.join(dir, 'sys-class-gpio');
  await mkdir(sysfs, { recursive: true });
  return {
    idp, dir, config,
    cachePath: path.join(state, 'token-cache.bin'),
    keyPath: path.join(state, 'token-cache.key'),
    start() {
      const child = spawn(process.execPath, [...typescriptNodeFlags(), '--input-type=module', '-e', DAEMON], {
        env: { ...process.env, REPO_URL: REPO, AGENT_CONFIG: config, AGENT_SYSFS: sysfs },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const daemon = new Daemon(child);
      daemons.push(daemon);
      return daemon;
    },
  };
}

/** What every SIGTERM must leave behind. */
function assertStoppedCleanly(daemon: Daemon, outcome: Awaited<ReturnType<Daemon['terminate']>>): void {
  assert.equal(outcome.signal, null, 'the process ended by itself, not killed');
  assert.equal(outcome.code, 0, `exit code 0; stderr: ${daemon.stderr}`);
  assert.ok(daemon.has('agent.stopped'), 'the orderly stop ran to its end (agent.stopped)');
  assert.ok(!daemon.has('agent.stop_timeout'), 'the stop finished before the 2-second deadline');
  assert.ok(daemon.has('button.started'), 'the button had claimed its GPIO line');
  const { report } = outcome;
  assert.ok(report.lit === 0 || !report.panelOn || report.text.includes('Stopped'),
    `the panel is blank or says "Stopped": ${JSON.stringify(report)}`);
  assert.equal(report.gpioExported, false, 'the GPIO line was released (unexported)');
}

/** The cache decrypts with the key, and holds the account. */
async function assertCacheHoldsAccount(s: Setup): Promise<void> {
  const key = parseKey(await readFile(s.keyPath));
  assert.ok(key, 'the key file holds a key');
  const plaintext = decodeCache(await readFile(s.cachePath), key, CLIENT_ID, s.cachePath);
  const cache = JSON.parse(plaintext) as { Account?: Record<string, { username?: string }> };
  const accounts = Object.values(cache.Account ?? {}).map((a) => a.username);
  assert.deepEqual(accounts, ['AdeleV@contoso.example'], 'the cache still holds the signed-in account');
}

test('SIGTERM while a code is on the screen', async (t) => {
  const s = await setup(t, { intervalSec: 5 });
  const daemon = s.start();
  await daemon.event('device_code.issued');
  const outcome = await daemon.terminate();
  assertStoppedCleanly(daemon, outcome);
});

test('SIGTERM while a poll of the token endpoint is in flight (the server does not answer)', async (t) => {
  const s = await setup(t);
  s.idp.faults.push({ endpoint: 'token', delayMs: Infinity, count: Infinity, match: (r) => r.grantType !== 'refresh_token' });
  const daemon = s.start();
  await daemon.event('device_code.issued');
  await daemon.until('a poll reached the server', () => s.idp.requests.some((r) => r.endpoint === 'token' && r.status === 0));
  const outcome = await daemon.terminate();
  assertStoppedCleanly(daemon, outcome);
});

test('SIGTERM while a Graph job is in flight: cancelled, and the cache written at sign-in intact', async (t) => {
  const s = await setup(t);
  s.idp.faults.push({ endpoint: 'graph', delayMs: Infinity, count: Infinity });
  const daemon = s.start();
  const issued = await daemon.event('device_code.issued');
  s.idp.approve(String(issued.user_code));
  await daemon.event('signin.succeeded');
  await daemon.until('a Graph request reached the server', () => s.idp.requests.some((r) => r.endpoint === 'graph' && r.status === 0));
  const outcome = await daemon.terminate();
  assertStoppedCleanly(daemon, outcome);
  await assertCacheHoldsAccount(s);
});

test('SIGTERM while the token cache is being written (waiting for its lock): the cache intact', async (t) => {
  // Access tokens shorter than msal-node's 5-minute margin: a restart refreshes, and so writes.
  const s = await setup(t, { accessTokenLifetimeSec: 120 });
  const first = s.start();
  s.idp.approve(String((await first.event('device_code.issued')).user_code));
  await first.event('signin.succeeded');
  assertStoppedCleanly(first, await first.terminate());
  await assertCacheHoldsAccount(s);

  // Another process (`graph-device-agent login` over SSH, say) holds the cache lock.
  const lock = `${s.cachePath}.lock`;
  await mkdir(lock);
  // Held, like a live holder does: touched every few seconds, so a daemon slow to start (a busy
  // machine) does not find it stale (10 s) and break it instead of waiting.
  const holding = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), 2_000);
  t.after(() => {
    clearInterval(holding);
    return rmdir(lock).catch(() => undefined);
  });
  const second = s.start();
  await second.until('the refreshed tokens wait for the cache lock', () => second.lines.some((l) => l.event === 'cache.lock_waiting'));
  const outcome = await second.terminate();
  assertStoppedCleanly(second, outcome);
  clearInterval(holding);
  await rmdir(lock);
  await assertCacheHoldsAccount(s);
});
