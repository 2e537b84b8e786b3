import { packageVersion } from '../version.js';
import type { ResolvedConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Clock } from '../clock.js';
import type { State } from '../agent/machine.js';
import type { Display } from '../display/display.js';
import type { Button } from '../button/button.js';
import type { TokenProvider } from '../graph/client.js';
import type { JobRun } from '../graph/jobs.js';
import { FleetMetrics } from '../metrics/fleet-metrics.js';
import { TextfileWriter } from '../metrics/textfile.js';

/**
 * The Prometheus textfile metrics, fed by the composition root: the agent's state changes, the
 * job results, the tokens Graph gets, and the display's and button's health (observed by
 * wrapping them, so neither knows about metrics). Undefined when `metrics.textfileDirectory`
 * is unset: then nothing is wrapped and nothing is written.
 */
export interface AppMetrics {
  stateChanged(state: State): void;
  jobFinished(run: JobRun): void;
  jobFailedBeforeGraph(job: string, kind: 'needs-sign-in' | 'token-unavailable' | 'error'): void;
  observeTokens(tokens: TokenProvider): TokenProvider;
  observeDisplay(display: Display): Display;
  observeButton(button: Button): Button;
  /** Writes the last state and stops. */
  stop(): Promise<void>;
}

export function createAppMetrics(
  config: ResolvedConfig,
  logger: Logger,
  jobs: readonly string[],
  timers?: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>,
): AppMetrics | undefined {
  const directory = config.metrics.textfileDirectory;
  if (!directory) return undefined;
  const metrics = new FleetMetrics({ version: packageVersion(), jobs, includeAccount: config.metrics.includeAccount, ...(timers ? { now: timers.now } : {}) });
  const writer = new TextfileWriter({
    directory, render: () => metrics.render(), minIntervalMs: config.metrics.minIntervalSec * 1000,
    logger: logger.child({ component: 'metrics' }), ...(timers ? { timers } : {}),
  });
  logger.info({ event: 'metrics.enabled', file: writer.file, min_interval_s: config.metrics.minIntervalSec }, `Prometheus metrics go to ${writer.file}`);
  const changed = (): void => writer.changed();
  return {
    stateChanged: (state) => {
      metrics.stateChanged(state);
      changed();
    },
    jobFinished: (run) => {
      metrics.jobFinished(run);
      changed();
    },
    jobFailedBeforeGraph: (job, kind) => {
      metrics.jobFailedBeforeGraph(job, kind);
      changed();
    },
    observeTokens: (tokens) => ({
      getAccessToken: async (options) => {
        const token = await tokens.getAccessToken(options);
        // Not a change worth a write of its own: it goes out with the job's result.
        metrics.tokenSucceeded();
        return token;
      },
    }),
    observeDisplay: (display) => {
      const observe = async <T>(op: () => Promise<T>): Promise<T> => {
        try {
          const result = await op();
          if (metrics.displayResult(true)) changed();
          return result;
        } catch (err) {
          if (metrics.displayResult(false)) changed();
          throw err;
        }
      };
      return {
        name: display.name,
        width: display.width,
        height: display.height,
        open: () => observe(() => display.open()),
        show: (frame) => observe(() => display.show(frame)),
        setPower: (on) => observe(() => display.setPower(on)),
        close: (options) => display.close(options),
      };
    },
    observeButton: (button) => ({
      name: button.name,
      start: async (listener) => {
        try {
          await button.start(listener);
          metrics.buttonResult(true);
        } catch (err) {
          metrics.buttonResult(false);
          throw err;
        } finally {
          changed();
        }
      },
      stop: () => button.stop(),
    }),
    stop: () => writer.stop(),
  };
}
