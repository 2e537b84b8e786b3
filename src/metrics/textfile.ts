import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '../log.js';
import { systemClock, type Clock } from '../clock.js';

/** The file node_exporter's textfile collector reads (it takes every `*.prom` in its folder). */
export const METRICS_FILE_NAME = 'graph_device_agent.prom';

export interface TextfileWriterOptions {
  directory: string;
  /** The text to write, asked for at write time (so a burst of changes costs one write). */
  render: () => string;
  /** At most one write per this many ms; a change in between is written when it ends. */
  minIntervalMs: number;
  logger: Logger;
  timers?: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;
}

/**
 * Writes the metrics file on change, at most every `minIntervalMs`, replacing it atomically: a
 * temp file in the same folder renamed over it, so node_exporter never reads half a file (it
 * would report a parse error and drop every metric of that scrape).
 *
 * Not auth/cache/atomic-write.ts, on purpose: that one creates files 0600 under the unit's
 * UMask=0077 (node_exporter runs as another user and must read this one: here it is fchmod'ed
 * 0644), creates missing folders 0700 (this folder belongs to node_exporter's package: a
 * missing one is a setup mistake, logged), and fsyncs file and folder each time (durability
 * this file does not need; it is rewritten on the next change, and the SD card is spared).
 */
export class TextfileWriter {
  readonly file: string;
  private readonly timers: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;
  private lastWriteAt = -Infinity;
  private timer: unknown;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;
  private stopped = false;

  constructor(private readonly options: TextfileWriterOptions) {
    this.file = path.join(options.directory, METRICS_FILE_NAME);
    this.timers = options.timers ?? systemClock;
  }

  /** Something changed: write now, or when the interval since the last write is over. */
  changed(): void {
    if (this.stopped || this.timer !== undefined) return;
    const wait = this.lastWriteAt + this.options.minIntervalMs - this.timers.now();
    if (wait <= 0) {
      void this.write();
      return;
    }
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, wait);
  }

  /** Writes what is pending now and stops writing (the last state, "stopping", stays in the file). */
  async stop(): Promise<void> {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
    this.stopped = true;
    await this.writing;
  }

  /** Writes now (the writes are queued, so they land in order). */
  write(): Promise<void> {
    if (this.stopped) return this.writing;
    this.lastWriteAt = this.timers.now();
    const text = this.options.render();
    this.writing = this.writing.then(() => this.replace(text));
    return this.writing;
  }

  private async replace(text: string): Promise<void> {
    const temp = path.join(this.options.directory, `.${METRICS_FILE_NAME}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const handle = await open(temp, 'wx', 0o644);
      try {
        // The unit's UMask=0077 would leave the file 0600; node_exporter must read it.
        await handle.chmod(0o644);
        await handle.writeFile(text);
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
      if (this.failing) this.options.logger.info({ event: 'metrics.written', file: this.file }, `metrics are written again to ${this.file}`);
      this.failing = false;
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      if (!this.failing) {
        const code = (err as NodeJS.ErrnoException).code;
        this.options.logger.warn({ event: 'metrics.write_failed', file: this.file, err: String(err) },
          `cannot write the metrics file ${this.file} (${code ?? String(err)}): check that metrics.textfileDirectory exists and the service may write to it (hardware/fleet.md)`);
      }
      this.failing = true;
    }
  }
}
