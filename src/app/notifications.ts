import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { HttpsClient } from '../net/https.js';
import { loopbackHttpRequest, isLoopbackHttp } from '../net/loopback-http.js';
import { systemClock, type Clock } from '../clock.js';
import type { State } from '../agent/machine.js';
import { notificationBody, type NotificationInput } from '../notify/notification.js';
import { NotificationSender, type Post, type SenderTarget } from '../notify/sender.js';
import { NotificationWatcher } from '../notify/watcher.js';
import { targetName } from '../notify/targets.js';

/**
 * Notifications built from the configuration: the targets (with their bearer tokens read from a
 * file or a systemd credential), the sender and the watcher. Imported only when targets are
 * configured (app.ts), so a device without them never loads it.
 */

export interface Notifier {
  /** Every state the agent enters. */
  onState(state: State): void;
  /** Every Graph job result. */
  onGraphResult(ok: boolean): void;
  /** The display or the button could not be started. */
  onFault(part: 'display' | 'button', error: string): void;
  /** Anything else worth telling (the refresh token getting old). */
  notify(input: NotificationInput): void;
  readonly sender: NotificationSender;
  stop(): void;
}

export interface NotifierParts {
  http: HttpsClient;
  timers?: Omit<Clock, 'now'>;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

/** HTTPS through the project's client (network.caFile, timeouts); plain HTTP to loopback only. */
export function notificationPost(http: HttpsClient): Post {
  return (req) => (isLoopbackHttp(req.url) ? loopbackHttpRequest(req) : http.request(req));
}

/**
 * A target's bearer token: from `bearerTokenFile`, or the systemd credential `bearerCredential`
 * ($CREDENTIALS_DIRECTORY/NAME). A token that cannot be read leaves the target out, with a
 * warning that says how to fix it: notifications are never worth stopping the agent for.
 */
async function readBearer(t: ResolvedConfig['notify']['targets'][number], env: NodeJS.ProcessEnv, logger: Logger): Promise<{ ok: true; bearer?: string } | { ok: false }> {
  const file = t.bearerTokenFile ?? (t.bearerCredential ? (env.CREDENTIALS_DIRECTORY ? path.join(env.CREDENTIALS_DIRECTORY, t.bearerCredential) : undefined) : undefined);
  if (!t.bearerTokenFile && !t.bearerCredential) return { ok: true };
  const name = targetName(t);
  if (!file) {
    logger.warn({ event: 'notify.secret_unreadable', target: name, credential: t.bearerCredential },
      `notification target ${name}: no systemd credentials ($CREDENTIALS_DIRECTORY is unset): add LoadCredential=${t.bearerCredential}:/path/to/token to the unit, or use bearerTokenFile; the target is left out`);
    return { ok: false };
  }
  try {
    const bearer = (await readFile(file, 'utf8')).trim();
    if (!/^[\x21-\x7e]{1,4096}$/.test(bearer)) throw new Error('not a single line of printable characters');
    return { ok: true, bearer };
  } catch (err) {
    logger.warn({ event: 'notify.secret_unreadable', target: name, file, err: String(err) },
      `notification target ${name}: cannot read its bearer token from ${file} (${String(err)}): make it a readable one-line file; the target is left out`);
    return { ok: false };
  }
}

export async function createNotifier(config: ResolvedConfig, logger: Logger, parts: NotifierParts): Promise<Notifier> {
  const log = logger.child({ component: 'notify' });
  const env = parts.env ?? process.env;
  const now = parts.now ?? Date.now;
  const timers = parts.timers ?? systemClock;
  const targets: SenderTarget[] = [];
  for (const spec of config.notify.targets) {
    const secret = await readBearer(spec, env, log);
    if (secret.ok) targets.push({ spec, ...(secret.bearer ? { bearer: secret.bearer } : {}) });
  }
  const sender = new NotificationSender({
    targets,
    post: notificationPost(parts.http),
    logger: log,
    timeoutMs: config.notify.timeoutSec * 1000,
    queueSize: config.notify.queueSize,
    timers,
  });
  const notify = (input: NotificationInput): void => {
    const body = notificationBody(input, config.device.label, now());
    log.info({ event: 'notify.queued', notification: body.event, targets: targets.length }, `notifying: ${body.title}`);
    sender.send(body);
  };
  const watcher = new NotificationWatcher({
    emit: notify,
    now,
    timers,
    graphFailingAfterMs: config.notify.graphFailingAfterMin * 60_000,
    includeUserCode: config.notify.includeUserCode,
  });
  return {
    onState: (s) => watcher.onState(s),
    onGraphResult: (ok) => watcher.onGraphResult(ok),
    onFault: (part, error) => watcher.onFault(part, error),
    notify,
    sender,
    stop: () => {
      watcher.stop();
      sender.stop();
    },
  };
}
