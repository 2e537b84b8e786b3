import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { TransportError, type HttpsRequest } from '../net/https.js';
import { buildRequest, targetName, wants, type TargetSpec } from './targets.js';
import type { NotificationBody } from './notification.js';

/**
 * Sending notifications, never in the agent's way: `send` only queues and returns. Each target
 * has its own bounded queue (the oldest dropped, and counted, when it is full) and works through
 * it one request at a time, with a timeout on each and a growing, jittered wait after a failure.
 * A dead or hung target costs a queue of a few small objects and one socket, nothing else: the
 * screen, the sign-in and the jobs never wait for it. A target that fails is logged once (warn,
 * with the fix), then once again when it works (info).
 */

export interface SenderTarget {
  spec: TargetSpec;
  /** "Authorization: Bearer" from a file or a systemd credential; never from the configuration. */
  bearer?: string | undefined;
}

export type Post = (req: HttpsRequest & { signal: AbortSignal }) => Promise<{ status: number }>;

export interface SenderOptions {
  targets: readonly SenderTarget[];
  post: Post;
  logger: Logger;
  timeoutMs: number;
  /** Notifications kept per target while it fails. */
  queueSize: number;
  /** Tries of one notification before it is dropped (and counted). */
  maxAttempts?: number;
  timers?: Omit<Clock, 'now'>;
  random?: () => number;
}

/** What one delivery came to. */
export type DeliveryOutcome =
  | { ok: true; status: number }
  | { ok: false; retry: boolean; problem: string; fix: string };

/** The first wait after a failure; it doubles up to {@link MAX_BACKOFF_MS}. */
const FIRST_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 300_000;

export class NotificationSender {
  private readonly queues: TargetQueue[];

  constructor(private readonly options: SenderOptions) {
    this.queues = options.targets.map((t) => new TargetQueue(t, options));
  }

  /** Queues `body` for every target that wants its event. Returns at once; never throws. */
  send(body: NotificationBody): void {
    for (const q of this.queues) if (wants(q.target.spec, body.event)) q.push(body);
  }

  /** Per target: how many were sent, dropped, are waiting, and whether it is failing now. */
  stats(): Array<{ target: string; sent: number; dropped: number; queued: number; failing: boolean }> {
    return this.queues.map((q) => ({ target: q.name, sent: q.sent, dropped: q.dropped, queued: q.queued, failing: q.failing }));
  }

  /** One try to every target, awaited (for `notify-test`): the outcome of each. */
  async sendOnce(body: NotificationBody): Promise<Array<{ target: string; outcome: DeliveryOutcome }>> {
    return Promise.all(this.queues.map(async (q) => ({ target: q.name, outcome: await q.deliver(body) })));
  }

  /** Stops at once: requests in flight are abandoned, what is queued is dropped. */
  stop(): void {
    for (const q of this.queues) q.stop();
  }
}

class TargetQueue {
  readonly name: string;
  private readonly queue: Array<{ body: NotificationBody; attempts: number }> = [];
  sent = 0;
  dropped = 0;
  failing = false;
  private busy = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: unknown;
  private readonly inFlight = new Set<AbortController>();
  private readonly timers: Omit<Clock, 'now'>;
  private readonly random: () => number;

  constructor(readonly target: SenderTarget, private readonly options: SenderOptions) {
    this.name = targetName(target.spec);
    this.timers = options.timers ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  get queued(): number {
    return this.queue.length;
  }

  push(body: NotificationBody): void {
    if (this.stopped) return;
    if (this.queue.length >= this.options.queueSize) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({ body, attempts: 0 });
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const c of this.inFlight) c.abort();
    this.queue.length = 0;
  }

  private pump(): void {
    if (this.busy || this.stopped || this.retryTimer !== undefined) return;
    const head = this.queue[0];
    if (!head) return;
    this.busy = true;
    head.attempts++;
    void this.deliver(head.body).then((outcome) => {
      this.busy = false;
      if (this.stopped) return;
      if (outcome.ok) {
        this.queue.shift();
        this.sent++;
        this.failures = 0;
        if (this.failing) {
          this.failing = false;
          this.options.logger.info({ event: 'notify.recovered', target: this.name, dropped: this.dropped },
            `notifications reach ${this.name} again${this.dropped ? ` (${this.dropped} dropped meanwhile)` : ''}`);
        }
        this.pump();
        return;
      }
      this.failures++;
      if (!this.failing) {
        this.failing = true;
        this.options.logger.warn({ event: 'notify.failed', target: this.name, problem: outcome.problem, fix: outcome.fix },
          `a notification to ${this.name} failed (${outcome.problem}): ${outcome.fix}; the agent carries on, and retries with back-off`);
      } else {
        this.options.logger.debug({ event: 'notify.retry_failed', target: this.name, problem: outcome.problem }, `still failing: ${outcome.problem}`);
      }
      if (!outcome.retry || head.attempts >= (this.options.maxAttempts ?? 5)) {
        if (this.queue[0] === head) this.queue.shift();
        this.dropped++;
      }
      const wait = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.failures - 1)) * (0.5 + this.random() / 2);
      this.retryTimer = this.timers.setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, Math.round(wait));
    });
  }

  /** One request, never rejecting. */
  async deliver(body: NotificationBody): Promise<DeliveryOutcome> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      const req = buildRequest(this.target.spec, body, { bearer: this.target.bearer, timeoutMs: this.options.timeoutMs });
      const { status } = await this.options.post({ ...req, signal: controller.signal });
      if (status >= 200 && status < 300) return { ok: true, status };
      const retry = status === 408 || status === 429 || status >= 500;
      const fix = status === 401 || status === 403 ? 'check the bearer token (bearerTokenFile or bearerCredential) and what it may publish'
        : status === 404 ? 'check the URL (the ntfy topic, the webhook id)'
        : retry ? 'the receiver has trouble; nothing to do if it passes' : 'check the target\'s URL and what it accepts';
      return { ok: false, retry, problem: `HTTP ${status}`, fix };
    } catch (err) {
      const problem = err instanceof TransportError ? err.message : String(err);
      const fix = err instanceof TransportError && err.failure === 'tls' ? 'set network.caFile to the CA that signed its certificate'
        : 'check that it is reachable from the device (address, DNS, firewall)';
      return { ok: false, retry: true, problem, fix };
    } finally {
      this.inFlight.delete(controller);
    }
  }
}
