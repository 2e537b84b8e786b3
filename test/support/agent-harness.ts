import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startIdentityEmulator, type IdentityEmulator, type IdentityEmulatorOptions } from './identity-emulator/index.js';
import { captureLogs } from './log-capture.js';
import { parseConfig, type ResolvedConfig } from '../../src/config/index.js';
import { createApp, type App, type AppOverrides } from '../../src/app/app.js';
import type { Display } from '../../src/display/display.js';
import type { Frame } from '../../src/display/frame.js';
import type { Button, ButtonListener } from '../../src/button/button.js';
import type { State } from '../../src/agent/machine.js';

/** A display that keeps every frame it is shown. */
export class RecordingDisplay implements Display {
  readonly name = 'recording';
  readonly frames: Frame[] = [];
  powered = true;
  closed = false;
  constructor(readonly width = 128, readonly height = 64) {}
  async open(): Promise<void> {}
  async show(frame: Frame): Promise<void> {
    this.frames.push(frame.clone());
  }
  async setPower(on: boolean): Promise<void> {
    this.powered = on;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  get last(): Frame | undefined {
    return this.frames.at(-1);
  }
}

/** A button a test presses, like gpiozero's mock pins. */
export class TestButton implements Button {
  readonly name = 'test';
  private listener: ButtonListener | undefined;
  async start(listener: ButtonListener): Promise<void> {
    this.listener = listener;
  }
  async stop(): Promise<void> {
    this.listener = undefined;
  }
  press(): void {
    this.listener?.pressed();
  }
  hold(): void {
    this.listener?.held();
  }
}

export interface Harness {
  idp: IdentityEmulator;
  dir: string;
  config: ResolvedConfig;
  logs: ReturnType<typeof captureLogs>;
  /** Starts a new agent process-alike on the same state directory (a restart); `overrides` as createApp's (a fake clock's timers). */
  startAgent(overrides?: Pick<AppOverrides, 'timers' | 'cron'>): Promise<RunningAgent>;
  close(): Promise<void>;
}

export interface RunningAgent {
  app: App;
  display: RecordingDisplay;
  button: TestButton;
  waitFor(name: State['name'], test?: (s: State) => boolean): Promise<State>;
  stop(): Promise<void>;
}

/**
 * The emulator, a temp state directory and a config pointing the real agent at them, over HTTPS
 * with the emulator's CA through `network.caFile`, exactly as a user would configure another server.
 */
export async function startHarness(options: { emulator?: IdentityEmulatorOptions; config?: Record<string, unknown> } = {}): Promise<Harness> {
  const idp = await startIdentityEmulator({ intervalSec: 0.05, deviceCodeLifetimeSec: 30, ...options.emulator });
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-agent-'));
  const logs = captureLogs('debug');
  // Each section of the test's config is merged over the harness's, key by key.
  const base: Record<string, Record<string, unknown> | string> = {
    auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666', authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
    graph: { baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host] },
    network: { caFile: idp.caFile, timeoutSec: 5 },
    display: { driver: 'none' },
    signIn: { minPollIntervalSec: 0.05, autoRenewCodes: 1 },
    stateDirectory: dir,
  };
  for (const [key, value] of Object.entries(options.config ?? {})) {
    const current = base[key];
    base[key] = typeof current === 'object' && typeof value === 'object' && value !== null && !Array.isArray(value)
      ? { ...current, ...(value as Record<string, unknown>) }
      : (value as Record<string, unknown> | string);
  }
  const config = parseConfig(base, { file: path.join(dir, 'config.json'), env: {} });
  const agents: RunningAgent[] = [];
  return {
    idp,
    dir,
    config,
    logs,
    async startAgent(overrides = {}) {
      const display = new RecordingDisplay(config.display.width, config.display.height);
      const button = new TestButton();
      const app = await createApp(config, logs.logger, { ...overrides, display, extraButton: button });
      await app.start();
      const running: RunningAgent = {
        app,
        display,
        button,
        waitFor: (name, test) => app.agent.waitFor((s) => s.name === name && (test ? test(s) : true)),
        stop: () => app.stop(),
      };
      agents.push(running);
      return running;
    },
    async close() {
      for (const a of agents) await a.stop().catch(() => undefined);
      await idp.close();
      // maxRetries: a job's last result may still be landing in the folder (ENOTEMPTY).
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}
