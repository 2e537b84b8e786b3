import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';

/** Child processes the bench starts and reads: their JSON log, their markers, their /proc. */

/** Kernel clock ticks per second, the unit of utime/stime in /proc/PID/stat. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export type LogLine = Record<string, unknown> & { event?: string };

/** A running child: its log lines and BENCH markers as they come, with waits on both. */
export class Watched {
  readonly lines: LogLine[] = [];
  readonly markers: Array<{ event: string; at: number }> = [];
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  stderr = '';
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess, private readonly now: () => number = () => performance.now()) {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      for (const raw of parts) {
        if (!raw.startsWith('{')) continue; // the terminal display, if any
        try {
          this.lines.push(JSON.parse(raw) as LogLine);
        } catch {
          // not a log line
        }
      }
      this.wake();
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      const at = this.now();
      err += d.toString();
      this.stderr += d.toString();
      const parts = err.split('\n');
      err = parts.pop() ?? '';
      for (const raw of parts) {
        if (raw.startsWith('BENCH ')) this.markers.push({ ...(JSON.parse(raw.slice(6)) as { event: string }), at });
      }
      this.wake();
    });
    this.exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    void this.exited.then(() => this.wake());
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the child did not start');
    return this.child.pid;
  }

  /** Resolves with the first log line (from index `from`) that passes `test`. */
  async line(test: (l: LogLine) => boolean, what: string, limitMs = 60_000, from = 0): Promise<LogLine> {
    return this.until(() => this.lines.slice(from).find(test), what, limitMs);
  }

  async marker(event: string, limitMs = 60_000): Promise<number> {
    return (await this.until(() => this.markers.find((m) => m.event === event), `marker ${event}`, limitMs)).at;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  private async until<T>(find: () => T | undefined, what: string, limitMs: number): Promise<T> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`the child exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}; stderr: ${this.stderr.slice(-2000)}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}

export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Watched {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Watched(child);
}

/** User + system CPU time of a process so far, in ms (from /proc/PID/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS;
}

/**
 * Bytes the process has caused to be written to a block device so far (`write_bytes` of
 * /proc/PID/io): files on a disk or an SD card, counted when their pages are dirtied; writes to a
 * tmpfs (/run) or a pipe (the journal) are not in it.
 */
export function storageWriteBytes(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const m = /^write_bytes:\s+(\d+)/m.exec(io);
  if (!m) throw new Error(`no write_bytes for ${pid}`);
  return Number(m[1]);
}

/** Resident set size in MiB (VmRSS of /proc/PID/status). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) / 1024;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
