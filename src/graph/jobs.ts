import nodeCron from 'node-cron';
import type { Logger } from '../log.js';
import { systemClock, type Clock } from '../clock.js';
import type { GraphClient, GraphResult } from './client.js';
import { validateGraphPath } from './client.js';
import { writeJsonAtomic } from './output.js';
import { expandPathTimes, validatePathTimes } from './path-time.js';
import { renderTemplate, validateTemplate, type TemplateOptions } from './template.js';
import { scrubSecrets } from '../net/scrub.js';

/** One scheduled Graph call and how its answer becomes a line on the screen. */
export interface GraphJobSpec {
  name: string;
  /** Cron expression (5 fields, or 6 with seconds), evaluated in UTC by default. */
  schedule: string;
  /**
   * Graph path relative to the base URL, e.g. "/me" or "/me/events?$top=1"; `{now}`, `{now+7d}`
   * are replaced by that moment at each run (path-time.ts).
   */
  path: string;
  /** Screen line template over the response, e.g. "Manager: {displayName}". */
  line?: string;
  /** Line when Graph answers 404, which some paths do by design (/me/manager without a manager). */
  notFoundLine?: string;
  /** Where to keep the last result as JSON (written atomically), for other programs on the device. */
  outputFile?: string;
  /** Per HTTP attempt. */
  timeoutSec: number;
}

/** What Microsoft's Python device code sample shows: the signed-in user and their manager. */
export const DEFAULT_JOBS: readonly GraphJobSpec[] = Object.freeze([
  { name: 'me', schedule: '*/15 * * * *', path: '/me', line: '{jobTitle}', timeoutSec: 30 },
  {
    name: 'manager', schedule: '*/15 * * * *', path: '/me/manager',
    line: 'Manager: {displayName}', notFoundLine: 'No manager', timeoutSec: 30,
  },
]);

export interface JobRun {
  job: string;
  path: string;
  reason: 'scheduled' | 'manual';
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  /** Graph answered as hoped: data, or a 404 the job expects (it has a `notFoundLine`). */
  ok: boolean;
  /** The screen line: the template over the data, or `notFoundLine`; absent otherwise. */
  line?: string;
  result: GraphResult;
}

/** Why a run ended without a result: pause() (signed out) or stop() came first. */
export class JobCancelledError extends Error {
  constructor(readonly job: string, readonly why: 'paused' | 'stopped') {
    super(`Graph job "${job}" was cancelled: jobs ${why}`);
    this.name = 'JobCancelledError';
  }
}

/** The part of node-cron 4 this module uses; tests pass a scheduler whose ticks they fire. */
export interface CronScheduler {
  createTask(expression: string, fn: () => Promise<void>, options: CronTaskOptions): CronTask;
}
export interface CronTask {
  start(): unknown;
  stop(): unknown;
  destroy(): unknown;
}
export interface CronTaskOptions {
  name: string;
  timezone: string;
  noOverlap: boolean;
  suppressMissedWarning: boolean;
  logger: CronLogger;
}
export interface CronLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error, err?: Error): void;
  debug(message: string | Error, err?: Error): void;
}

export interface GraphJobsOptions {
  client: Pick<GraphClient, 'get'>;
  jobs: readonly GraphJobSpec[];
  logger: Logger;
  /** Every finished run, scheduled or manual (not cancelled ones). */
  onResult: (run: JobRun) => void;
  /**
   * A scheduled run that threw instead of answering: the token provider's errors ("needs
   * sign-in") land here, because nobody awaits a scheduled run. runOne/runAllNow reject instead.
   */
  onError?: (err: unknown, job: string) => void;
  cron?: CronScheduler;
  /** IANA zone the schedules are read in. UTC keeps intervals steady across DST changes. */
  timezone?: string;
  /** The zone a line shows a date-time with a zone in (`{...|time}`): graph.timeZone. */
  lineTimeZone?: string;
  now?: () => number;
  /**
   * This device's delay for each scheduled tick of a job, in ms (graph/splay.ts), always below
   * the job's period; none when absent. Manual runs are never delayed.
   */
  splayMs?: (job: GraphJobSpec) => number;
  /** Timers for the splay (a test's fake clock). */
  timers?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

/** Returns an error message when `expression` is not a cron expression node-cron accepts. */
export function validateCron(expression: string): string | undefined {
  const check = nodeCron.validateDetailed(expression);
  if (check.valid) return undefined;
  return `"${expression}" is not a cron expression: ${check.errors.map((e) => e.message).join('; ')}`;
}

/** Every problem in a job list, for the config loader to print at once (empty when fine). */
export function validateJobs(jobs: readonly GraphJobSpec[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const job of jobs) {
    const where = `job "${job.name}"`;
    if (!/^[A-Za-z0-9_.-]+$/.test(job.name)) problems.push(`${where}: a name is letters, digits, "_", "." or "-"`);
    if (seen.has(job.name)) problems.push(`${where}: the name is used twice`);
    seen.add(job.name);
    const cron = validateCron(job.schedule);
    if (cron) problems.push(`${where}: ${cron}`);
    const path = validateGraphPath(job.path) ?? validatePathTimes(job.path);
    if (path) problems.push(`${where}: ${path}`);
    for (const [key, template] of [['line', job.line], ['notFoundLine', job.notFoundLine]] as const) {
      const bad = template === undefined ? undefined : validateTemplate(template);
      if (bad) problems.push(`${where}: ${key}: ${bad}`);
    }
    if (!(Number.isFinite(job.timeoutSec) && job.timeoutSec > 0)) problems.push(`${where}: timeoutSec must be a positive number`);
  }
  return problems;
}

interface InFlight {
  promise: Promise<JobRun>;
  controller: AbortController;
}

/**
 * The scheduled Graph jobs. The constructor does nothing; `start()` creates the schedules
 * paused, `resume()` (signed in) lets ticks run, `pause()` (signed out) stops them and cancels
 * runs in flight so no result of the previous account reaches the screen, `stop()` ends it all.
 *
 * A job never runs twice at once: a tick while it runs is skipped, and a manual run joins the
 * run in flight instead of starting another.
 */
/** The jobs port: what the agent needs from the Graph side (scheduled jobs it pauses, resumes and runs now). */
export interface JobsPort {
  /** Lets scheduled runs happen (after sign-in). */
  resume(): void;
  /** Stops scheduled runs and cancels runs in flight (sign-out, a new sign-in). */
  pause(): void;
  /** Runs every job once, now (after sign-in, on a press); errors go where scheduled runs' go. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Jobs a press or a fresh sign-in runs at once. */
export const RUN_NOW_AT_ONCE = 2;

export class GraphJobs implements JobsPort {
  private readonly client: Pick<GraphClient, 'get'>;
  private readonly specs: ReadonlyMap<string, GraphJobSpec>;
  private readonly log: Logger;
  private readonly onResult: (run: JobRun) => void;
  private readonly onError: ((err: unknown, job: string) => void) | undefined;
  private readonly cron: CronScheduler;
  private readonly timezone: string;
  private readonly lineOptions: TemplateOptions;
  private readonly now: () => number;
  private tasks: CronTask[] | undefined;
  private paused = true;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly splay: ReadonlyMap<string, number>;
  private readonly timers: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  /** Ticks waiting out their splay, by job: cleared by pause() and stop(). */
  private readonly delayed = new Map<string, unknown>();
  /** What each job's outputFile holds now, without its time and request id: an unchanged answer is not written again. */
  private readonly written = new Map<string, string>();

  constructor(options: GraphJobsOptions) {
    const problems = validateJobs(options.jobs);
    if (problems.length > 0) throw new Error(`invalid Graph jobs: ${problems.join('; ')}`);
    this.client = options.client;
    this.specs = new Map(options.jobs.map((job) => [job.name, job]));
    this.log = options.logger;
    this.onResult = options.onResult;
    this.onError = options.onError;
    this.cron = options.cron ?? nodeCron;
    this.timezone = options.timezone ?? 'UTC';
    this.lineOptions = options.lineTimeZone ? { timeZone: options.lineTimeZone } : {};
    this.now = options.now ?? Date.now;
    const splayMs = options.splayMs;
    this.splay = new Map(options.jobs.map((job) => [job.name, splayMs ? Math.max(0, splayMs(job)) : 0]));
    this.timers = options.timers ?? systemClock;
  }

  /** This device's delay for a job's scheduled runs, in ms (0 without a splay). */
  splayOf(name: string): number {
    return this.splay.get(name) ?? 0;
  }

  /** Names of the jobs, in configured order. */
  get names(): string[] {
    return [...this.specs.keys()];
  }

  /** Creates the schedules, paused. */
  start(): void {
    if (this.tasks) return;
    this.tasks = [...this.specs.values()].map((spec) =>
      this.cron.createTask(spec.schedule, () => this.tick(spec.name), {
        name: `graph:${spec.name}`,
        timezone: this.timezone,
        noOverlap: true,
        // A Pi without a real-time clock jumps forward at NTP sync; node-cron would warn once
        // for every slot in the gap. Missing them is expected: the next slot runs.
        suppressMissedWarning: true,
        logger: cronLogger(this.log, spec.name),
      }),
    );
    const splay = Object.fromEntries(this.names.map((name) => [name, Math.round(this.splayOf(name) / 1000)]));
    this.log.info({ event: 'graph.jobs.started', jobs: this.names, splay_s: splay }, `${this.specs.size} Graph job(s) scheduled, paused`);
  }

  /** Lets scheduled ticks run (after sign-in). */
  resume(): void {
    if (!this.tasks) throw new Error('GraphJobs.resume() before start()');
    if (!this.paused) return;
    this.paused = false;
    for (const task of this.tasks) void task.start();
    this.log.info({ event: 'graph.jobs.resumed' }, 'Graph jobs resumed');
  }

  /** Stops scheduled ticks and cancels runs in flight (at sign-out). */
  pause(): void {
    // Manual runs may be in flight even while paused (runAllNow right after sign-in).
    this.cancelAll('paused');
    this.cancelDelayed();
    if (this.paused) return;
    this.paused = true;
    for (const task of this.tasks ?? []) void task.stop();
    this.log.info({ event: 'graph.jobs.paused' }, 'Graph jobs paused');
  }

  /** Removes the schedules, cancels runs in flight and waits for them to settle. */
  async stop(): Promise<void> {
    this.paused = true;
    for (const task of this.tasks ?? []) void task.destroy();
    this.tasks = undefined;
    this.cancelDelayed();
    const settling = [...this.inFlight.values()].map((f) => f.promise.catch(() => undefined));
    this.cancelAll('stopped');
    await Promise.all(settling);
  }

  /** Runs every job once, now, concurrently; results in configured order. Works while paused. */
  runAllNow(): Promise<JobRun[]> {
    return Promise.all(this.names.map((name) => this.runOne(name)));
  }

  /**
   * Runs every job once, now, each on its own (one that needs a new sign-in does not hide the
   * others' results): their errors go to `onError`, as a scheduled run's do; a cancelled run is
   * not an error.
   */
  async runNow(): Promise<void> {
    // A press or a fresh sign-in is not a stampede: at most RUN_NOW_AT_ONCE jobs at a time (the
    // Graph client sends one request at a time anyway), and a job already running is joined.
    const queue = [...this.names];
    const worker = async (): Promise<void> => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const job = name;
        await this.runOne(job).catch((err: unknown) => {
          if (err instanceof JobCancelledError) {
            this.log.debug({ event: 'graph.job.cancelled', job, why: err.why }, err.message);
            return;
          }
          if (this.onError) this.onError(err, job);
          else throw err;
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(RUN_NOW_AT_ONCE, queue.length) }, worker));
  }

  /**
   * Runs one job now, or joins its run in flight. Rejects with what the token provider threw,
   * or with a {@link JobCancelledError} when pause() or stop() came first.
   */
  runOne(name: string): Promise<JobRun> {
    return this.run(name, 'manual');
  }

  private run(name: string, reason: JobRun['reason']): Promise<JobRun> {
    const spec = this.specs.get(name);
    if (!spec) return Promise.reject(new Error(`no Graph job named "${name}" (there are: ${this.names.join(', ')})`));
    const running = this.inFlight.get(name);
    if (running) {
      this.log.debug({ event: 'graph.job.joined', job: name }, `job ${name} is running; waiting for that run`);
      return running.promise;
    }
    const controller = new AbortController();
    const promise = this.execute(spec, reason, controller.signal).finally(() => {
      if (this.inFlight.get(name)?.controller === controller) this.inFlight.delete(name);
    });
    this.inFlight.set(name, { promise, controller });
    return promise;
  }

  /**
   * A cron slot. With a splay, the run starts that long after the slot, on a timer of its own,
   * so node-cron's next slot is not held up; a slot while the previous one still waits (only
   * possible when the clock jumps) is skipped like a slot during a run.
   */
  private async tick(name: string): Promise<void> {
    // node-cron may already have queued a tick when pause() stopped its task.
    if (this.paused) return;
    const splay = this.splayOf(name);
    if (splay <= 0) return this.runScheduled(name);
    if (this.delayed.has(name)) return;
    this.delayed.set(name, this.timers.setTimeout(() => {
      this.delayed.delete(name);
      void this.runScheduled(name);
    }, splay));
  }

  private cancelDelayed(): void {
    for (const handle of this.delayed.values()) this.timers.clearTimeout(handle);
    this.delayed.clear();
  }

  private async runScheduled(name: string): Promise<void> {
    if (this.paused) return;
    if (this.inFlight.has(name)) {
      this.log.info({ event: 'graph.job.skipped', job: name }, `job ${name} is still running; skipping this tick`);
      return;
    }
    try {
      await this.run(name, 'scheduled');
    } catch (err) {
      if (err instanceof JobCancelledError) return;
      // execute() has logged it; the agent decides what a token error means (sign in again).
      if (this.onError) this.onError(err, name);
    }
  }

  private async execute(spec: GraphJobSpec, reason: JobRun['reason'], signal: AbortSignal): Promise<JobRun> {
    const started = this.now();
    let result: GraphResult;
    try {
      result = await this.client.get(expandPathTimes(spec.path, started), { timeoutMs: spec.timeoutSec * 1000, job: spec.name, signal });
    } catch (err) {
      if (signal.aborted) throw this.cancelled(spec, signal);
      // No token (a sign-in is needed, or the network is down): the identity side logs what
      // needs a person, once; this line only says the run did not happen.
      this.log.info({
        event: 'graph.job', job: spec.name, reason, ok: false, duration_ms: this.now() - started,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      }, `job ${spec.name}: no Graph call (${err instanceof Error ? err.message : String(err)})`);
      throw err;
    }
    // pause() may come while the answer is on its way: it belongs to the previous sign-in.
    if (signal.aborted) throw this.cancelled(spec, signal);

    const run = toRun(spec, reason, result, started, this.now() - started, this.lineOptions);
    this.logRun(run);
    if (spec.outputFile) {
      // Written when the answer changes, not on every run: the file is on an SD card, which wears
      // out with small writes (its `at` is when this answer was first seen).
      try {
        // Inside the try: what Graph sent may be more than JSON.stringify can write back.
        const record = outputRecord(run, result);
        const content = JSON.stringify({ ...record, at: undefined, requestId: undefined });
        if (this.written.get(spec.name) !== content) {
          await writeJsonAtomic(spec.outputFile, record);
          this.written.set(spec.name, content);
        }
      } catch (err) {
        this.log.warn({ event: 'graph.job.output_failed', job: spec.name, file: spec.outputFile, error: (err as Error).message },
          `job ${spec.name}: cannot write ${spec.outputFile}: ${(err as Error).message}`);
      }
    }
    if (signal.aborted) throw this.cancelled(spec, signal);
    try {
      this.onResult(run);
    } catch (err) {
      // A listener's bug must not look like a Graph failure, nor escape a cron tick.
      this.log.error({ event: 'graph.job.listener_failed', job: spec.name, error: (err as Error).message }, 'onResult threw');
    }
    return run;
  }

  private cancelled(spec: GraphJobSpec, signal: AbortSignal): JobCancelledError {
    const reason: unknown = signal.reason;
    const err = reason instanceof JobCancelledError ? reason : new JobCancelledError(spec.name, 'stopped');
    this.log.info({ event: 'graph.job', job: spec.name, ok: false, cancelled: err.why }, `job ${spec.name} cancelled (${err.why})`);
    return err;
  }

  private cancelAll(why: JobCancelledError['why']): void {
    for (const [name, { controller }] of this.inFlight) controller.abort(new JobCancelledError(name, why));
  }

  private logRun(run: JobRun): void {
    const { result } = run;
    const fields = {
      event: 'graph.job', job: run.job, reason: run.reason, ok: run.ok, status: result.status,
      duration_ms: run.durationMs, request_id: result.requestId, attempts: result.attempts, line: run.line,
    };
    if (run.ok) {
      this.log.info(fields, `job ${run.job}: ${run.line ?? `HTTP ${result.status ?? '-'}`}`);
    } else if (!result.ok) {
      // No network (or a captive portal): the agent logs going offline once, with what to check.
      // Anything else (a permission, a bad path, Graph failing after retries) needs a person.
      const level = result.kind === 'network' || result.kind === 'not-json' ? 'info' : 'warn';
      this.log[level]({ ...fields, kind: result.kind, code: result.code, message: result.message }, `job ${run.job}: ${result.message}`);
    }
  }
}

function toRun(spec: GraphJobSpec, reason: JobRun['reason'], result: GraphResult, started: number, durationMs: number, lineOptions: TemplateOptions): JobRun {
  const base = { job: spec.name, path: spec.path, reason, startedAt: new Date(started).toISOString(), durationMs, result };
  if (result.ok) {
    return { ...base, ok: true, ...(spec.line !== undefined ? { line: renderTemplate(spec.line, result.data, lineOptions) } : {}) };
  }
  if (result.kind === 'not-found' && spec.notFoundLine !== undefined) {
    return { ...base, ok: true, line: renderTemplate(spec.notFoundLine, null, lineOptions) };
  }
  return { ...base, ok: false };
}

/** The output file: the last run, whatever it was, so a reader can tell stale from failed. */
export function outputRecord(run: JobRun, result: GraphResult): Record<string, unknown> {
  return {
    job: run.job,
    path: run.path,
    at: run.startedAt,
    ok: run.ok,
    status: result.status ?? null,
    line: run.line ?? null,
    requestId: result.requestId ?? null,
    ...(result.ok
      ? { data: result.data }
      // The client scrubs Graph's words already; scrubbed again here because this file outlives the log.
      : { error: { kind: result.kind, code: result.code ?? null, message: scrubSecrets(result.message) } }),
  };
}

/**
 * node-cron's own messages, under the job's name. Its warnings ("task still running, new
 * execution blocked by overlap prevention!") are what noOverlap is for: nothing to act on.
 */
function cronLogger(log: Logger, job: string): CronLogger {
  const text = (m: string | Error): string => (m instanceof Error ? m.message : m);
  return {
    info: (m) => log.debug({ event: 'graph.cron', job }, m),
    warn: (m) => log.info({ event: 'graph.cron', job }, `job ${job}: ${text(m)}`),
    error: (m, err) => log.error({ event: 'graph.cron', job, error: err?.message }, `job ${job}: ${text(m)}`),
    debug: (m) => log.debug({ event: 'graph.cron', job }, text(m)),
  };
}
