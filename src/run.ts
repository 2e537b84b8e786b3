import type { ResolvedConfig } from './config/index.js';
import { createLogger, type Logger } from './log.js';
import { createApp, type AppOverrides } from './app/app.js';

/** How long shutdown may take before the process exits anyway (systemd waits 90 s; people don't). */
const STOP_DEADLINE_MS = 2_000;

export interface RunOptions {
  logger?: Logger;
  overrides?: AppOverrides;
  /** Resolves when the daemon should stop; by default SIGTERM or SIGINT. */
  stopSignal?: Promise<string>;
}

/**
 * `graph-device-agent run`: start the agent, keep it running until SIGTERM/SIGINT, stop it in order.
 * Returns the exit code.
 */
export async function runDaemon(config: ResolvedConfig, options: RunOptions = {}): Promise<number> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
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

  const app = await createApp(config, logger, options.overrides);
  logger.info({ event: 'agent.starting', config: config.configFile, display: app.display.name, pid: process.pid }, 'graph-device-agent starting');
  // Signals do not keep Node's event loop alive; in a state with no timers (waiting for a press)
  // the process would otherwise just end.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stopSignal = options.stopSignal ?? new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    await app.start();
    const signal = await stopSignal;
    logger.info({ event: 'agent.stopping', signal }, `stopping on ${signal}`);
    const deadline = setTimeout(() => {
      logger.warn({ event: 'agent.stop_timeout', after_ms: STOP_DEADLINE_MS }, 'shutdown took too long: exiting anyway');
      process.exit(0);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    await app.stop();
    clearTimeout(deadline);
    logger.info({ event: 'agent.stopped' }, 'stopped');
    return 0;
  } finally {
    clearInterval(keepAlive);
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}
