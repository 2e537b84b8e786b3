import type { ResolvedConfig } from '../config/index.js';
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
import { createButtons } from './buttons.js';

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
}

export interface App {
  agent: Agent;
  identity: IdentityPort;
  display: Display;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wires the ports to their adapters from the configuration. The only place besides the CLI that
 * knows every part; the agent itself sees interfaces.
 */
export async function createApp(config: ResolvedConfig, logger: Logger, overrides: AppOverrides = {}): Promise<App> {
  const http = HttpsClient.fromCaFile(config.network.caFile);

  const display = overrides.display ?? (await createDisplay(config, logger, { terminalOutput: overrides.terminalOutput }));
  const button = createButtons(config, logger, overrides.extraButton);

  const key = await loadOrCreateKey(config, logger);
  const identity = createIdentity(config, logger, { key, http, ...(overrides.now ? { now: overrides.now } : {}) });

  // Job results go to the agent, which is made below (it needs the jobs); set once it exists.
  let jobResultsTo: Agent | undefined = undefined;
  const graph = createGraphClient(config, logger, { http, tokens: identity });
  const onJobError = (err: unknown, job: string): void => {
    if (err instanceof NeedsSignInError) {
      jobResultsTo?.dispatch({ type: 'token-needs-sign-in', why: err.why });
    } else if (err instanceof TokenUnavailableError) {
      jobResultsTo?.dispatch({ type: 'job-finished', job, ok: false, online: false, at: Date.now() });
    } else {
      logger.error({ event: 'error', where: 'graph.job', job, err: String(err) }, `Graph job ${job} failed: ${String(err)}`);
    }
  };
  const jobSpecs = configuredJobs(config);
  const jobs = new GraphJobs({
    client: graph,
    jobs: jobSpecs,
    logger: logger.child({ component: 'jobs' }),
    onResult: (run: JobRun) => {
      jobResultsTo?.dispatch(jobFinished(run, jobSpecs.findIndex((j) => j.name === run.job)));
      // For `graph-device-agent status`: the last result, without the response body.
      void recordGraphRun(config.stateDirectory, run, logger);
    },
    onError: onJobError,
    lineTimeZone: config.graph.timeZone,
    ...(overrides.cron ? { cron: overrides.cron } : {}),
  });

  const agent = new Agent({
    identity,
    display,
    button,
    jobs,
    logger,
    autoRenewCodes: config.signIn.autoRenewCodes,
    ...(overrides.displayOpen ? { displayOpen: true } : {}),
    confirmTimeoutMs: config.button.confirmTimeoutMs,
    sleepAfterMs: config.display.sleepAfterSec * 1000,
    deviceLabel: config.device.label,
    ...(overrides.now ? { now: overrides.now } : {}),
    ...(overrides.timers ? { timers: overrides.timers } : {}),
    ...(overrides.onStateChange ? { onStateChange: overrides.onStateChange } : {}),
  });
  jobResultsTo = agent;
  let stopping: Promise<void> | undefined;
  return {
    agent,
    identity,
    display,
    start: async () => {
      jobs.start();
      await agent.start();
    },
    stop: () => {
      stopping ??= agent.stop().finally(() => http.close());
      return stopping;
    },
  };
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
