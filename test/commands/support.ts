import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startHarness, type Harness } from '../support/agent-harness.js';
import { Frame } from '../../src/display/frame.js';
import { createLogger } from '../../src/log.js';
import { StatusFile } from '../../src/service/status-file.js';

/** A Writable that keeps what is written, as text. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

export interface CommandHarness extends Harness {
  /** The configuration file the commands read (the harness's settings, written out). */
  configFile: string;
  /** Runs a command function with this config, an empty environment (plus `env`) and captured output. */
  run<T extends object>(command: (options: T & { configPath: string; env: NodeJS.ProcessEnv; stdout: Capture; stderr: Capture }) => Promise<number>, options?: T, env?: NodeJS.ProcessEnv):
    Promise<{ code: number; stdout: string; stderr: string }>;
}

/** The agent harness (identity emulator, temp state directory), with a config file for the commands. */
export async function startCommandHarness(options: { config?: Record<string, unknown> } = {}): Promise<CommandHarness> {
  const h = await startHarness(options);
  const configFile = path.join(h.dir, 'config.json');
  await writeFile(configFile, JSON.stringify({
    auth: { clientId: h.config.auth.clientId, authority: h.idp.authority, knownAuthorities: [h.idp.knownAuthority] },
    graph: { baseUrl: h.idp.graphBaseUrl, allowedHosts: [new URL(h.idp.graphBaseUrl).host] },
    network: { caFile: h.idp.caFile, timeoutSec: 5 },
    display: { driver: 'none' },
    signIn: { minPollIntervalSec: 0.05, autoRenewCodes: 1 },
    stateDirectory: h.dir,
    ...options.config,
  }));
  return {
    ...h,
    configFile,
    async run(command, commandOptions, env = {}) {
      const stdout = new Capture();
      const stderr = new Capture();
      const code = await command({ ...(commandOptions ?? {}), configPath: configFile, env, stdout, stderr } as Parameters<typeof command>[0]);
      return { code, stdout: stdout.text, stderr: stderr.text };
    },
  };
}

/** Writes the agent's status.json as the running agent does (this process's pid, fresh). */
export async function pretendAgentRuns(stateDirectory: string, state = 'signed-in'): Promise<StatusFile> {
  const file = new StatusFile({ path: path.join(stateDirectory, 'status.json'), logger: createLogger({ level: 'error' }) });
  await file.start();
  await file.update({ state, healthy: true });
  return file;
}

/** The frames a TerminalDisplay drew into `text` (boxes of half blocks), back as frames. */
export function framesFromTerminal(text: string): Frame[] {
  const frames: Frame[] = [];
  let rows: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('┌')) rows = [];
    else if (line.startsWith('└') && rows) {
      const width = [...(rows[0] ?? '')].length;
      const frame = new Frame(width, rows.length * 2);
      rows.forEach((row, y) => [...row].forEach((ch, x) => {
        if (ch === '▀' || ch === '█') frame.set(x, y * 2);
        if (ch === '▄' || ch === '█') frame.set(x, y * 2 + 1);
      }));
      frames.push(frame);
      rows = undefined;
    } else if (rows && line.startsWith('│')) {
      rows.push(line.slice(1, -1));
    }
  }
  return frames;
}

/** Every secret the emulator issued that appears in `text` (shortened), for "never printed" checks. */
export function leakedSecrets(secrets: string[], text: string): string[] {
  const leaked: string[] = [];
  for (const secret of secrets) {
    const parts = [secret, ...secret.split('.').filter((p) => p.length >= 16)];
    if (parts.some((p) => text.includes(p))) leaked.push(`${secret.slice(0, 8)}…`);
  }
  return leaked;
}
