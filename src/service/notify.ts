import type { Logger } from '../log.js';
import { SystemdNotifySender } from './notify-sender.js';
import type { Clock } from '../clock.js';
import { Watchdog, watchdogIntervalMs } from './watchdog.js';

/**
 * What the daemon tells systemd (sd_notify(3)), for `Type=notify` units:
 *   READY=1     local start-up is done (display, button, cache): call it before the network sign-in,
 *               so a slow network never runs into TimeoutStartSec=;
 *   STATUS=…    one line shown by `systemctl status graph-device-agent`;
 *   WATCHDOG=1  sent by itself every WATCHDOG_USEC/2 from the event loop (see watchdog.ts);
 *   STOPPING=1  shutdown has begun.
 * Outside systemd (`NOTIFY_SOCKET` unset: a terminal, Docker, tests) every call is a no-op.
 * How the datagrams are sent, and why that way: notify-sender.ts.
 */
export interface ServiceNotifier {
  /** True when `NOTIFY_SOCKET` is set and messages go to systemd. */
  readonly enabled: boolean;
  /** The watchdog ping interval, or undefined when systemd's watchdog is off. */
  readonly watchdogIntervalMs: number | undefined;
  ready(status?: string): Promise<void>;
  status(text: string): Promise<void>;
  stopping(status?: string): Promise<void>;
  /** Stops the watchdog and waits for messages still queued. Later calls do nothing. */
  close(): Promise<void>;
}

export interface ServiceNotifierOptions {
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID come from; process.env by default. */
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** The sd_notify helper; `systemd-notify` by default. */
  command?: string;
  /** For the watchdog timer; tests pass a fake clock. */
  timers?: Pick<Clock, 'setInterval' | 'clearInterval'>;
  /** This process's PID, compared with WATCHDOG_PID. */
  pid?: number;
}

/** STATUS= is one line: control characters would end it or confuse `systemctl status`. */
export function statusLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 200);
}

export function createServiceNotifier(options: ServiceNotifierOptions): ServiceNotifier {
  const env = options.env ?? process.env;
  const log = options.logger;
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return disabledNotifier();
  if (!socket.startsWith('/') && !socket.startsWith('@')) {
    log.warn({ event: 'service.notify_socket_invalid', socket }, 'NOTIFY_SOCKET is neither a path nor an @abstract name: not notifying systemd');
    return disabledNotifier();
  }

  const sender = new SystemdNotifySender({
    socket,
    logger: log,
    ...(options.command !== undefined ? { command: options.command } : {}),
    ...(env.PATH !== undefined ? { path: env.PATH } : {}),
  });
  const intervalMs = watchdogIntervalMs(env, options.pid ?? process.pid);
  const watchdog = intervalMs === undefined ? undefined : new Watchdog({
    intervalMs,
    ping: () => void sender.send(['WATCHDOG=1']),
    ...(options.timers ? { timers: options.timers } : {}),
  });
  let closed = false;
  const send = (assignments: string[]): Promise<void> => (closed ? Promise.resolve() : sender.send(assignments));
  const withStatus = (first: string, status: string | undefined): string[] =>
    status === undefined ? [first] : [first, `STATUS=${statusLine(status)}`];

  log.info(
    { event: 'service.notify_enabled', socket, watchdog_ms: intervalMs ?? null },
    intervalMs === undefined ? 'telling systemd our state (no watchdog)' : `telling systemd our state; watchdog ping every ${intervalMs} ms`,
  );
  watchdog?.start();

  return {
    enabled: true,
    watchdogIntervalMs: intervalMs,
    ready: (status) => send(withStatus('READY=1', status)),
    status: (text) => send([`STATUS=${statusLine(text)}`]),
    stopping: (status) => send(withStatus('STOPPING=1', status)),
    close: async () => {
      if (closed) return;
      closed = true;
      watchdog?.stop();
      await sender.drain();
    },
  };
}

function disabledNotifier(): ServiceNotifier {
  const nothing = (): Promise<void> => Promise.resolve();
  return { enabled: false, watchdogIntervalMs: undefined, ready: nothing, status: nothing, stopping: nothing, close: nothing };
}
