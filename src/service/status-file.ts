import { backgroundClock, type Clock } from '../clock.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { Logger } from '../log.js';

/**
 * `status.json` in the state directory: the agent's state for anything outside the process that
 * cannot use sd_notify, first of all Docker's HEALTHCHECK (healthcheck.ts reads it).
 *
 *     {"state":"signed-in","healthy":true,"detail":"Ada Lovelace","updatedAt":"…","pid":1}
 *
 * The file is rewritten on every update and by a heartbeat timer on the main event loop; a stale
 * `updatedAt` therefore means a stalled loop or a dead process, like a missed systemd watchdog.
 * Written like every file of the agent (files/atomic-write.ts): a reader never sees half of it.
 */

export { STATUS_FILE_NAME } from './status-location.js';
export const DEFAULT_HEARTBEAT_MS = 30_000;

export interface AgentStatus {
  /** The agent's state name (`starting`, `showing-code`, `signed-in`, …). */
  state: string;
  /** False when the agent cannot do its job without someone fixing something. */
  healthy: boolean;
  /** One short line for a person; never a token or a device code. */
  detail?: string;
}

export interface StatusFileContent extends AgentStatus {
  updatedAt: string;
  pid: number;
}

export interface StatusFileOptions {
  path: string;
  logger: Logger;
  heartbeatMs?: number;
  /** Epoch milliseconds; Date.now by default. */
  now?: () => number;
  /** The heartbeat's timer; one that never keeps the process alive by default. */
  timers?: Pick<Clock, 'setInterval' | 'clearInterval'>;
}

export class StatusFile {
  readonly path: string;
  private readonly logger: Logger;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private readonly timers: Pick<Clock, 'setInterval' | 'clearInterval'>;
  private current: AgentStatus = { state: 'starting', healthy: true };
  private heartbeat: unknown;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(options: StatusFileOptions) {
    this.path = options.path;
    this.logger = options.logger;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? backgroundClock;
  }

  /** Writes the first status and starts the heartbeat. */
  start(): Promise<void> {
    if (this.heartbeat === undefined) {
      this.heartbeat = this.timers.setInterval(() => void this.write(), this.heartbeatMs);
    }
    return this.write();
  }

  /** Records a new state and writes it at once. Never rejects: a failed write is logged. */
  update(status: AgentStatus): Promise<void> {
    // After stop() the last word is "stopped": a late state change must not overwrite it.
    if (this.stopped) return this.writing;
    this.current = { ...status };
    return this.write();
  }

  /** Stops the heartbeat and leaves a last, unhealthy "stopped" status behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat !== undefined) {
      this.timers.clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
    this.current = { state: 'stopped', healthy: false };
    await this.write();
  }

  private stopped = false;

  private write(): Promise<void> {
    // Serialized, so an older snapshot never lands after a newer one.
    this.writing = this.writing.then(() => this.writeNow());
    return this.writing;
  }

  private async writeNow(): Promise<void> {
    const content: StatusFileContent = { ...this.current, updatedAt: new Date(this.now()).toISOString(), pid: process.pid };
    try {
      // 0600: it names the signed-in user. The readers are the agent's own user (Docker's
      // HEALTHCHECK runs as the container's USER) and root (`sudo graph-device-agent status`).
      await writeFileAtomic(this.path, `${JSON.stringify(content)}\n`, { mode: 0o600, dirMode: 0o700 });
      if (this.failing) {
        this.failing = false;
        this.logger.info({ event: 'service.status_file_recovered', path: this.path }, 'status file written again');
      }
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.logger.warn({ event: 'service.status_file_failed', path: this.path, error: (err as Error).message }, `cannot write the status file ${this.path}`);
      }
    }
  }
}
