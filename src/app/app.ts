import type { ResolvedConfig } from '../config/index.js';
import { ConfigError } from '../config/errors.js';
import { NOT_OURS_FIX, type CacheNotOursError } from '../auth/cache/index.js';
import type { Logger } from '../log.js';
import { HttpsClient } from '../net/https.js';
import { Agent } from '../agent/agent.js';
import type { Clock } from '../clock.js';
import type { State } from '../agent/machine.js';
import type { Display } from '../display/display.js';
import type { Button } from '../button/button.js';
import { NeedsSignInError, TokenUnavailableError, type IdentityPort } from '../auth/identity.js';
import { GraphJobs, type CronScheduler, type JobRun } from '../graph/jobs.js';
import { configuredJobs, createGraphClient, createIdentity } from './identity-and-graph.js';
import { createDisplay } from './displays.js';
import { recordGraphRun } from '../graph/last-run.js';
import { runtimeDirectory } from '../service/status-location.js';
import { createButtons } from './buttons.js';
import type { Notifier } from './notifications.js';
import { readSignInRecord } from '../auth/signin-record.js';
import { cronPeriodMs, readMachineId, splayFraction, splayMs } from '../graph/splay.js';

/** What tests, the demo and the daemon may put in place of the configured parts. */
export interface AppOverrides {
  display?: Display;
  /** The display above is open already (and shows the first frame). */
  displayOpen?: boolean;
  /** Added to the configured buttons (the demo's keyboard, a test's fake). */
  extraButton?: Button;
  /** Output of the terminal display. */
  terminalOutput?: NodeJS.WritableStream;
  cron?: CronScheduler;
  /** The agent's timers (a test's fake clock); `now` stays separate: the code's times are real. */
  timers?: Omit<Clock, 'now'>;
  now?: () => number;
  onStateChange?: (state: State, description: string) => void;
  /** In place of /etc/machine-id, for the schedules' splay (graph/splay.ts). */
  machineId?: string;
}

export interface App {
  agent: Agent;
  identity: IdentityPort;
  display: Display;
  /**
   * Resolves when the running agent finds a configuration problem it cannot go on with: the file
   * at cache.path is not a token cache of this agent (put there while it ran, or before its first
   * read). The agent is stopping by then (no new sign-in is started); the daemon stops and exits
   * 78, as it does for a bad configuration at start-up. Never resolves otherwise.
   */
  configProblem: Promise<ConfigError>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wires the ports to their adapters from the configuration. The only place besides the CLI that
 * knows every part; the agent itself sees interfaces.
 */
export async function createApp(config: ResolvedConfig, logger: Logger, overrides: AppOverrides = {}): Promise<App> {
  const http = HttpsClient.fromCaFile(config.network.caFile);

  // Notifications only when targets are configured: otherwise their code is never loaded.
  const notifier: Notifier | undefined = config.notify.targets.length > 0
    ? await (await import('./notifications.js')).createNotifier(config, logger, {
      http, ...(overrides.timers ? { timers: overrides.timers } : {}), ...(overrides.now ? { now: overrides.now } : {}),
    })
    : undefined;

  const display = overrides.display ?? (await createDisplay(config, logger, { terminalOutput: overrides.terminalOutput }));
  const button = createButtons(config, logger, overrides.extraButton, notifier ? { onUnavailable: (problem) => notifier.onFault('button', problem) } : {});
  const jobSpecs = configuredJobs(config);
  // Prometheus textfile metrics (metrics.textfileDirectory); undefined when off. Loaded only then:
  // a module the daemon loads stays in its memory for good.
  const metrics = config.metrics.textfileDirectory
    ? (await import('./metrics.js')).createAppMetrics(config, logger, jobSpecs.map((j) => j.name),
      overrides.timers ? { ...overrides.timers, now: overrides.now ?? Date.now } : undefined)
    : undefined;

  const key = await loadOrCreateKey(config, logger);
  // The cache says when cache.path holds something that is not its own: a configuration error,
  // as at start-up. The agent stops at once (so no new sign-in goes up meanwhile); `run` exits 78.
  let reportProblem!: (problem: ConfigError) => void;
  const configProblem = new Promise<ConfigError>((resolve) => (reportProblem = resolve));
  let stopAgent: (() => void) | undefined = undefined;
  const onCacheNotOurs = (problem: CacheNotOursError): void => {
    stopAgent?.();
    reportProblem(new ConfigError(config.configFile, [`cache.path: ${problem.message}; it is left untouched: ${NOT_OURS_FIX}`]));
  };
  const identity = createIdentity(config, logger, { key, http, onCacheNotOurs, ...(overrides.now ? { now: overrides.now } : {}) });

  // Job results go to the agent, which is made below (it needs the jobs); set once it exists.
  let jobResultsTo: Agent | undefined = undefined;
  const graph = createGraphClient(config, logger, { http, tokens: metrics ? metrics.observeTokens(identity) : identity });
  const onJobError = (err: unknown, job: string): void => {
    if (err instanceof NeedsSignInError) {
      metrics?.jobFailedBeforeGraph(job, 'needs-sign-in');
      jobResultsTo?.dispatch({ type: 'token-needs-sign-in', why: err.why, lapse: err.lapse });
    } else if (err instanceof TokenUnavailableError) {
      metrics?.jobFailedBeforeGraph(job, 'token-unavailable');
      notifier?.onGraphResult(false);
      jobResultsTo?.dispatch({ type: 'job-finished', job, ok: false, online: false, at: Date.now() });
    } else {
      metrics?.jobFailedBeforeGraph(job, 'error');
      logger.error({ event: 'error', where: 'graph.job', job, err: String(err) }, `Graph job ${job} failed: ${String(err)}`);
    }
  };
  // Spread schedules: this device's fraction of each job's period (graph/splay.ts).
  const fraction = config.graph.splay === 'off' ? 0 : splayFraction(overrides.machineId ?? readMachineId().id);
  const jobs = new GraphJobs({
    client: graph,
    jobs: jobSpecs,
    logger: logger.child({ component: 'jobs' }),
    onResult: (run: JobRun) => {
      notifier?.onGraphResult(run.ok);
      metrics?.jobFinished(run);
      jobResultsTo?.dispatch(jobFinished(run, jobSpecs.findIndex((j) => j.name === run.job)));
      // For `graph-device-agent status`: the last result, without the response body, in the
      // runtime directory (tmpfs under systemd): a job run must not cost the SD card a write.
      void recordGraphRun(runtimeDirectory(process.env, config.stateDirectory), run, logger);
    },
    onError: onJobError,
    splayMs: (job) => splayMs(fraction, cronPeriodMs(job.schedule), config.graph.splay),
    lineTimeZone: config.graph.timeZone,
    ...(overrides.cron ? { cron: overrides.cron } : {}),
    ...(overrides.timers ? { timers: overrides.timers } : {}),
  });

  const onStateChange = metrics
    ? (state: State, description: string): void => {
      metrics.stateChanged(state);
      overrides.onStateChange?.(state, description);
    }
    : overrides.onStateChange;
  const agent = new Agent({
    identity,
    display: metrics ? metrics.observeDisplay(display) : display,
    button: metrics ? metrics.observeButton(button) : button,
    jobs,
    logger,
    autoRenewCodes: config.signIn.autoRenewCodes,
    ...(overrides.displayOpen ? { displayOpen: true } : {}),
    confirmTimeoutMs: config.button.confirmTimeoutMs,
    sleepAfterMs: config.display.sleepAfterSec * 1000,
    deviceLabel: config.device.label,
    ...(overrides.now ? { now: overrides.now } : {}),
    ...(overrides.timers ? { timers: overrides.timers } : {}),
    ...(onStateChange || notifier ? {
      onStateChange: (state: State, description: string) => {
        onStateChange?.(state, description);
        notifier?.onState(state);
      },
    } : {}),
    ...(notifier ? { onFault: (part: 'display' | 'button', error: string) => notifier.onFault(part, error) } : {}),
  });
  jobResultsTo = agent;
  stopAgent = () => agent.dispatch({ type: 'stop' });
  let stopping: Promise<void> | undefined;
  return {
    agent,
    identity,
    display,
    configProblem,
    start: async () => {
      await warnIfRefreshOld(config, logger, notifier, overrides.now ?? Date.now);
      jobs.start();
      await agent.start();
    },
    stop: () => {
      notifier?.stop();
      stopping ??= agent.stop().finally(() => http.close()).finally(() => metrics?.stop());
      return stopping;
    },
  };
}

/**
 * After a long power-off: refresh tokens die after 90 days without use (AADSTS700082). The last
 * refresh, from the state folder, older than `notify.refreshAgeWarnDays` is a warning (and a
 * notification), before the silent refresh finds out whether it still works.
 */
async function warnIfRefreshOld(config: ResolvedConfig, logger: Logger, notifier: Notifier | undefined, now: () => number): Promise<void> {
  const record = await readSignInRecord(config.stateDirectory);
  const last = record?.lastRefreshAt ? Date.parse(record.lastRefreshAt) : NaN;
  if (!record || Number.isNaN(last)) return;
  const days = (now() - last) / 86_400_000;
  if (days < config.notify.refreshAgeWarnDays) return;
  logger.warn({ event: 'signin.refresh_old', account: record.account, last_refresh: record.lastRefreshAt, days: Math.floor(days) },
    `the tokens were last refreshed ${Math.floor(days)} days ago; refresh tokens die after 90 days unused (AADSTS700082): keep the device on and online, or be ready to sign in again`);
  notifier?.notify({ event: 'signin.refresh_old', lastRefresh: last, account: record.account, days });
}

function jobFinished(run: JobRun, order: number): Parameters<Agent['dispatch']>[0] {
  const r = run.result;
  const online = r.ok || (r.kind !== 'network' && r.kind !== 'not-json');
  // A refused permission is worth a line on the screen: the person can ask for it.
  const notice = !r.ok && r.kind === 'forbidden' ? r.message : undefined;
  return {
    type: 'job-finished',
    job: run.job,
    order,
    ok: run.ok,
    online,
    at: Date.parse(run.startedAt) + run.durationMs,
    ...(run.line !== undefined ? { line: run.line } : {}),
    ...(notice !== undefined ? { notice } : {}),
  };
}

/**
 * The cache key, from the first source that has one (systemd credential, key file, environment);
 * on first start with none, a key is made in the state directory with a warning that says how to
 * seal it. Logs `cache.key_source` (never the key). See auth/key-source.ts.
 */
async function loadOrCreateKey(config: ResolvedConfig, logger: Logger): Promise<Buffer> {
  const { resolveKey } = await import('../auth/key-source.js');
  return (await resolveKey({ config, logger, create: true })).key;
}
