import path from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import { ConfigError, EXIT_CONFIG } from '../config/errors.js';
import { findConfigFile } from '../config/locate.js';
import type { Logger } from '../log.js';
import type { AppOverrides } from '../app/app.js';
import type { State } from '../agent/machine.js';
import type { EarlyDisplay } from '../app/early-display.js';

/*
 * Light on purpose: cli.ts loads this module before the first frame is drawn, so everything heavy
 * (the schema library, the logger, msal-node, the app) is imported where it is first needed.
 */

/** How long shutdown may take before the process exits anyway (systemd waits 90 s; people don't). */
const STOP_DEADLINE_MS = 2_000;

export interface RunOptions {
  /** The display `run` opened to draw its first frame before the configuration was loaded. */
  early?: EarlyDisplay;
  logger?: Logger;
  overrides?: AppOverrides;
  /** Resolves when the daemon should stop; by default SIGTERM or SIGINT. */
  stopSignal?: Promise<string>;
}

/**
 * `graph-device-agent run`: "Starting" on the display first (from the display section alone),
 * then the configuration, checked in a child process so the daemon never holds the checker (see
 * config/load-in-child.ts), then the daemon. A bad configuration is reported on stderr, in the
 * journal and, when its display section can be read, on the display; exit 78.
 */
export async function runCommand(options: { configPath?: string | undefined }): Promise<number> {
  // Until the signal button is listening, SIGUSR1 would open Node's debugger: ignore it.
  process.on('SIGUSR1', () => undefined);
  let early: EarlyDisplay | undefined;
  try {
    const file = findConfigFile(options.configPath);
    const { openEarlyDisplay } = await import('../app/early-display.js');
    early = await openEarlyDisplay(file);
    const { loadConfigInChild } = await import('../config/load-in-child.js');
    const config = await loadConfigInChild(file);
    return await runDaemon(config, { ...(early ? { early } : {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const { reportConfigError } = await import('./context.js');
    reportConfigError(err, (logger) => early?.logger.attach(logger));
    const { showConfigProblem } = await import('../app/config-problem-screen.js');
    await showConfigProblem(err, early?.display);
    return EXIT_CONFIG;
  }
}

/**
 * The daemon: start the agent, keep it running until SIGTERM/SIGINT, stop it in order.
 * Returns the exit code.
 */
export async function runDaemon(config: ResolvedConfig, options: RunOptions = {}): Promise<number> {
  const [{ createLogger }, { journaldDestination }, { createApp }, { sameDisplay }, { createServiceNotifier }, { StatusFile, STATUS_FILE_NAME }] = await Promise.all([
    import('../log.js'),
    import('../log-journald.js'),
    import('../app/app.js'),
    import('../app/early-display.js'),
    import('../service/notify.js'),
    import('../service/status-file.js'),
  ]);
  const { runtimeDirectory } = await import('../service/status-location.js');
  const { abandonWritesInFlight } = await import('../files/atomic-write.js');
  // With stdout going to the journal, each line gets a syslog priority prefix, so
  // `journalctl -p warning` works; elsewhere plain JSON lines.
  const destination = journaldDestination();
  const logger = options.logger ?? createLogger({ level: config.log.level, ...(destination ? { destination } : {}) });
  // A bug must not take the device down silently: log it. An exception leaves the process in an
  // unknown state, so exit non-zero and let systemd restart us; a stray rejection is logged only.
  const onRejection = (reason: unknown): void => {
    logger.error({ event: 'error', where: 'unhandled-rejection', err: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled promise rejection');
  };
  const onException = (err: Error): void => {
    logger.fatal({ event: 'error', where: 'uncaught-exception', err: err.stack }, `uncaught exception: ${err.message}`);
    process.exit(1);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  // systemd: READY after local start-up, STATUS= for each state, a watchdog from the event loop,
  // STOPPING on the way out (all no-ops outside systemd). status.json serves `status` and Docker.
  const notifier = createServiceNotifier({ logger });
  // In /run under systemd (see status-location.ts): the 30 s heartbeat must not wear the SD card.
  const statusFile = new StatusFile({ path: path.join(runtimeDirectory(process.env, config.stateDirectory), STATUS_FILE_NAME), logger });
  await statusFile.start();
  const onStateChange = (state: State, description: string): void => {
    void notifier.status(description);
    void statusFile.update({ state: state.name, healthy: isHealthy(state), detail: description });
    options.overrides?.onStateChange?.(state, description);
  };
  // The display that already shows "Starting" is kept when the validated settings are the same.
  let early: { display: NonNullable<AppOverrides['display']>; displayOpen: true } | undefined;
  if (options.early) {
    options.early.logger.attach(logger.child({ component: 'display' }));
    if (sameDisplay(options.early.settings, config.display) && !options.overrides?.display) {
      early = { display: options.early.display, displayOpen: true };
    } else {
      await options.early.display.close({ blank: false }).catch(() => undefined);
    }
  }
  const app = await createApp(config, logger, { ...options.overrides, ...early, onStateChange });
  logger.info({ event: 'agent.starting', config: config.configFile, display: app.display.name, pid: process.pid }, 'graph-device-agent starting');
  // Signals do not keep Node's event loop alive; in a state with no timers (waiting for a press)
  // the process would otherwise just end.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  // `on`, not `once`: proper-lockfile's signal-exit re-raises a signal when its own handler is the
  // only one left, which would kill the process in the middle of the orderly stop.
  const onTerm = (): void => resolveStop('SIGTERM');
  const onInt = (): void => resolveStop('SIGINT');
  let resolveStop: (signal: string) => void = () => undefined;
  const stopSignal = options.stopSignal ?? new Promise<string>((resolve) => {
    resolveStop = resolve;
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  try {
    await app.start();
    await notifier.ready('Started');
    // A signal, or a configuration problem found while running (cache.path no longer a token
    // cache of this agent: app.ts): that one ends as a bad configuration at start-up does.
    const end = await Promise.race([stopSignal.then((signal) => ({ signal })), app.configProblem.then((problem) => ({ problem }))]);
    const problem = 'problem' in end ? end.problem : undefined;
    const code = problem ? EXIT_CONFIG : 0;
    const field = problem?.problems[0]?.split(':')[0] ?? 'the configuration';
    if ('signal' in end) {
      logger.info({ event: 'agent.stopping', signal: end.signal }, `stopping on ${end.signal}`);
    } else {
      // Said first, as at start-up, on stderr (one line) and in the journal (config.invalid):
      // whatever is slow below, it is out.
      const { reportConfigError } = await import('./context.js');
      reportConfigError(end.problem, undefined, logger);
      logger.info({ event: 'agent.stopping', cause: 'config' }, `stopping: ${field} needs fixing (exit ${EXIT_CONFIG})`);
    }
    // The final status first: whatever is slow below (a display on a hung bus, a request in
    // flight), status.json and Docker's health check already say "stopped", not a dead pid.
    let phase = 'writing the final status';
    const deadline = setTimeout(() => {
      const abandoned = abandonWritesInFlight();
      logger.warn({ event: 'agent.stop_timeout', after_ms: STOP_DEADLINE_MS, still: phase, temp_files_removed: abandoned },
        `shutdown took longer than ${STOP_DEADLINE_MS / 1000} s (still ${phase}): exiting anyway`);
      process.exit(code);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    await statusFile.update(problem
      ? { state: 'stopped', healthy: false, detail: `Stopped: ${field} needs fixing` }
      : { state: 'stopped', healthy: true, detail: 'Stopped' });
    await statusFile.stop();
    phase = 'telling systemd';
    await notifier.stopping('Stopping');
    phase = 'stopping the agent (jobs, button, display, sign-in)';
    await app.stop();
    phase = 'closing the systemd notifier';
    await notifier.close();
    clearTimeout(deadline);
    logger.info({ event: 'agent.stopped' }, 'stopped');
    if (problem) {
      // The display the agent just released shows the problem, as a bad configuration at start does.
      const { showConfigProblem } = await import('../app/config-problem-screen.js');
      await showConfigProblem(problem);
    }
    return code;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    clearInterval(keepAlive);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}

/** Unhealthy only when a person must fix something the agent cannot (Docker's HEALTHCHECK reads it). */
function isHealthy(state: State): boolean {
  if (state.name !== 'needs-press') return true;
  return state.problem.kind !== 'app-config' && state.problem.kind !== 'blocked';
}
