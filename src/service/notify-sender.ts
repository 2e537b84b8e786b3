import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';

/**
 * Sends sd_notify(3) datagrams by running systemd's own `systemd-notify` helper, one short-lived
 * process per message.
 *
 * Why a helper process and not a socket in this process: `$NOTIFY_SOCKET` is a unix *datagram*
 * socket and Node has no way to open one (`dgram` is UDP only; `net` is streams only; a datagram
 * socket fd handed to `dgram`/`net` is refused as an unknown handle type). The alternatives were
 * weighed (see also /work/shared/notes/systemd.md):
 *   - `unix-dgram` / `sd-notify` (native addons): sent from the main PID, so the unit could keep
 *     `NotifyAccess=main`; but one more node-gyp build on every Pi, for a 20-byte message every
 *     15 s. `sd-notify` has not changed since 2020.
 *   - a wrapper that connects the socket and execs Node with the fd inherited (so Node could
 *     `write()` datagrams itself): needs python3 or similar in ExecStart; too clever to maintain.
 *   - `systemd-notify`: installed wherever systemd is, no build, no addon. The kernel stamps the
 *     datagram with the helper's PID, not ours, so the unit needs `NotifyAccess=all` (any process
 *     of the service's cgroup may notify: only this daemon and its helpers live there). Since
 *     systemd 246 the helper waits (`BARRIER=1`) until the manager has processed the message, so the
 *     manager can still map the short-lived sender to our cgroup: we must NOT pass `--no-block`.
 * A fork+exec every WatchdogSec/2 (15 s) costs a few milliseconds on a Pi Zero 2: cheap enough.
 *
 * Messages go out one at a time, in order. A watchdog ping that finds another ping still queued
 * is merged into it, so a slow manager never piles up helpers.
 */

export interface NotifySenderOptions {
  /** `$NOTIFY_SOCKET`: a path, or `@name` for an abstract socket (systemd-notify handles both). */
  socket: string;
  logger: Logger;
  /** The helper to run; `systemd-notify` from `path` by default. */
  command?: string;
  /** PATH used to find the helper. */
  path?: string;
  /** A helper still running after this long is killed (its own barrier gives up after 5 s). */
  timeoutMs?: number;
}

interface QueuedMessage {
  assignments: string[];
  done: Array<() => void>;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const WATCHDOG = 'WATCHDOG=1';

export class SystemdNotifySender {
  private readonly socket: string;
  private readonly logger: Logger;
  private readonly command: string;
  private readonly path: string;
  private readonly timeoutMs: number;
  private readonly queue: QueuedMessage[] = [];
  private sending = false;
  private failing = false;
  private idle: Array<() => void> = [];

  constructor(options: NotifySenderOptions) {
    this.socket = options.socket;
    this.logger = options.logger;
    this.command = options.command ?? 'systemd-notify';
    this.path = options.path ?? DEFAULT_PATH;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Queues one datagram made of `KEY=VALUE` assignments (one per line). Resolves once the helper
   * has finished, successfully or not: a notification that could not be sent is logged, never
   * thrown, because the daemon's work must not depend on systemd hearing about it.
   */
  send(assignments: string[]): Promise<void> {
    return new Promise((resolve) => {
      const isPing = assignments.length === 1 && assignments[0] === WATCHDOG;
      const queuedPing = isPing ? this.queue.find((m) => m.assignments.length === 1 && m.assignments[0] === WATCHDOG) : undefined;
      if (queuedPing) queuedPing.done.push(resolve);
      else this.queue.push({ assignments, done: [resolve] });
      this.pump();
    });
  }

  /** Resolves when every queued message has been handed to the helper. */
  drain(): Promise<void> {
    if (!this.sending && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    if (this.sending) return;
    const message = this.queue.shift();
    if (!message) {
      const waiting = this.idle;
      this.idle = [];
      for (const resolve of waiting) resolve();
      return;
    }
    this.sending = true;
    void this.run(message.assignments).then((failure) => {
      this.report(message.assignments, failure);
      for (const resolve of message.done) resolve();
      this.sending = false;
      this.pump();
    });
  }

  /** Runs the helper once; resolves with a description of the failure, or undefined on success. */
  private run(assignments: string[]): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      let stderr = '';
      let settled = false;
      const finish = (failure: Record<string, unknown> | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(failure);
      };
      let child: ChildProcess;
      try {
        // Only what the helper needs; nothing else of ours (credential paths, proxies) is its business.
        child = spawn(this.command, assignments, {
          env: { NOTIFY_SOCKET: this.socket, PATH: this.path },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
      } catch (err) {
        resolve({ reason: 'spawn-failed', error: (err as Error).message });
        return;
      }
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish({ reason: 'timeout', timeout_ms: this.timeoutMs });
      }, this.timeoutMs);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (stderr.length < 500) stderr += chunk;
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        finish({ reason: err.code === 'ENOENT' ? 'helper-missing' : 'spawn-failed', error: err.message });
      });
      child.on('close', (code, signal) => {
        if (code === 0) finish(undefined);
        else finish({ reason: 'helper-failed', exit_code: code, signal, stderr: stderr.trim().slice(0, 500) });
      });
    });
  }

  /** One warning when notifications start failing, one info when they work again: no spam every 15 s. */
  private report(assignments: string[], failure: Record<string, unknown> | undefined): void {
    const keys = assignments.map((a) => a.slice(0, a.indexOf('=')));
    if (failure === undefined) {
      if (this.failing) {
        this.failing = false;
        this.logger.info({ event: 'service.notify_recovered', keys }, 'systemd notifications work again');
      } else {
        this.logger.debug({ event: 'service.notify', keys }, `sd_notify ${keys.join(' ')}`);
      }
      return;
    }
    if (this.failing) {
      this.logger.debug({ event: 'service.notify_failed', keys, command: this.command, ...failure }, 'sd_notify failed again');
      return;
    }
    this.failing = true;
    const hint = failure.reason === 'helper-missing'
      ? `${this.command} not found: systemd will not learn that the service is ready or alive (install the systemd package)`
      : `${this.command} failed: systemd may not learn that the service is ready or alive`;
    this.logger.warn({ event: 'service.notify_failed', keys, command: this.command, ...failure }, hint);
  }
}
