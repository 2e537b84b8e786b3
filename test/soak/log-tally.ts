import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

/**
 * The soak's log sink: a month of JSON lines is counted as it goes, never kept (a list of every
 * line would itself be the growing heap the soak looks for). What is kept is bounded: counters,
 * the last lines for a failure message, and the lines that must never appear (errors).
 */

export interface JobOutcomes {
  ok: number;
  failed: number;
  /** No Graph call was made: the token could not be had. */
  noCall: number;
  cancelled: number;
  skipped: number;
}

export interface FailedRun {
  job: string;
  at: number;
  why: string;
}

const emptyOutcomes = (): JobOutcomes => ({ ok: 0, failed: 0, noCall: 0, cancelled: 0, skipped: 0 });

export class LogTally {
  readonly logger: Logger;
  /** Lines by event name. */
  readonly events = new Map<string, number>();
  /** `state.changed` lines by "from>to:trigger". */
  readonly transitions = new Map<string, number>();
  /** `graph.job` outcomes by job and reason ('scheduled', 'manual', or '' for cancellations). */
  readonly outcomes = new Map<string, JobOutcomes>();
  /** Per job: `graph.job` lines with ok and HTTP 200, whatever the reason. */
  readonly ok200 = new Map<string, number>();
  /**
   * Failed runs (not cancellations), with the virtual time they were logged at. Kept as the times
   * of each job and reason (an array of numbers each): a month of outages is a thousand failures
   * with the same few reasons, and the tally lives in the process whose heap the soak measures.
   */
  get failures(): FailedRun[] {
    return [...this.failureTimes.values()].flatMap(({ job, why, at }) => at.map((ms) => ({ job, at: ms, why }))).sort((a, b) => a.at - b.at);
  }
  /** Lines at level error or fatal: none may appear. */
  readonly errors: Array<Record<string, unknown>> = [];
  /** Every line counted so far. */
  count = 0;
  private readonly recent: string[] = [];
  private readonly failureTimes = new Map<string, { job: string; why: string; at: number[] }>();
  private partial = '';

  constructor(level: 'info' | 'debug' = 'info') {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.partial += chunk.toString('utf8');
        const parts = this.partial.split('\n');
        this.partial = parts.pop() ?? '';
        for (const raw of parts) if (raw.trim() !== '') this.take(raw);
        done();
      },
    });
    this.logger = createLogger({ level, destination: sink });
  }

  outcomesOf(job: string, reason: 'scheduled' | 'manual' | ''): JobOutcomes {
    const key = `${job}/${reason}`;
    let found = this.outcomes.get(key);
    if (!found) {
      found = emptyOutcomes();
      this.outcomes.set(key, found);
    }
    return found;
  }

  event(name: string): number {
    return this.events.get(name) ?? 0;
  }

  /** The last lines, for a failure message. */
  tail(n = 40): string {
    return this.recent.slice(-n).join('\n');
  }

  private take(raw: string): void {
    this.count += 1;
    this.recent.push(raw);
    if (this.recent.length > 200) this.recent.splice(0, this.recent.length - 200);
    const line = JSON.parse(raw) as Record<string, unknown>;
    const event = typeof line.event === 'string' ? line.event : '(none)';
    this.events.set(event, (this.events.get(event) ?? 0) + 1);
    if (line.level === 'error' || line.level === 'fatal') this.errors.push(line);
    if (event === 'state.changed') {
      const key = `${String(line.from)}>${String(line.to)}:${String(line.trigger)}`;
      this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
    }
    if (event === 'graph.job.skipped') this.outcomesOf(String(line.job), '').skipped += 1;
    if (event !== 'graph.job') return;
    const job = String(line.job);
    if (line.cancelled !== undefined) {
      this.outcomesOf(job, '').cancelled += 1;
      return;
    }
    const reason = line.reason === 'scheduled' || line.reason === 'manual' ? line.reason : '';
    const outcomes = this.outcomesOf(job, reason);
    if (line.ok === true) {
      outcomes.ok += 1;
      if (line.status === 200) this.ok200.set(job, (this.ok200.get(job) ?? 0) + 1);
      return;
    }
    if (line.error !== undefined) outcomes.noCall += 1;
    else outcomes.failed += 1;
    const why = String(line.error ?? line.msg ?? '');
    const key = `${job}\n${why}`;
    let group = this.failureTimes.get(key);
    if (!group) this.failureTimes.set(key, (group = { job, why, at: [] }));
    group.at.push(Date.parse(String(line.time)));
  }
}
