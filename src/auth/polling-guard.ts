import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { transportFailureOf, UnexpectedResponseError } from './network.js';
import type { Logger } from '../log.js';
import { backoffMs } from '../retry/backoff.js';
import { headerValue, parseRetryAfter } from '../retry/retry-after.js';
import { scrubSecrets } from '../net/scrub.js';

/** What the identity server said when it refused a token request. */
export interface ServerErrorReply {
  error: string;
  codes: number[];
  /** The first line of `error_description` (the rest is trace ids). */
  description: string;
  at: number;
}

export interface PollingGuardOptions {
  /** msal-node polls without any delay when a server omits `interval`: never poll faster than this. */
  minIntervalSec: number;
  /** Longest wait between polls while the network is down (back-off doubles up to this). */
  maxOfflineBackoffMs?: number;
  /** RFC 8628 §3.5: each `slow_down` adds this to the polling interval. */
  slowDownStepMs?: number;
  logger?: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Hooks for one device code being polled. */
export interface PollWatcher {
  /** Called when polling goes offline (true) and comes back (false). */
  offline(offline: boolean): void;
}

const RFC8628_DEFAULT_INTERVAL_SEC = 5;
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const PENDING = 'authorization_pending';

interface PollState {
  watcher: PollWatcher;
  /** Added before each poll: slow_down steps (RFC 8628 §3.5). */
  extraDelayMs: number;
  failures: number;
  offline: boolean;
}

/**
 * Sits between msal-node and the network client, where the device code flow's replies pass.
 *
 * msal-node ends the whole device code attempt on anything but `authorization_pending`: a reset
 * connection, a timeout, a 503, a captive portal's HTML page, or `slow_down`. But the code is on
 * the screen and the person may be typing it on their phone right now, so the device must keep
 * polling the *same* code until it expires. This guard does that at the network layer:
 * - a transient failure while polling becomes `authorization_pending` after a back-off (with
 *   jitter), and the screen is told "offline" until a poll gets through;
 * - `slow_down` adds 5 s to every later poll of that code, and becomes `authorization_pending`;
 * - 429/5xx never reach msal-node, so its local throttle cannot turn into a tight failure loop;
 * - it applies a floor under the device code reply's `interval`;
 * - it remembers the last real error reply, because msal-node keeps only its `error` string and
 *   drops the AADSTS number the screen and log need.
 */
/** The longest wait between polls the agent accepts from a server (RFC 8628 gives no bound). */
export const MAX_POLL_INTERVAL_SEC = 60;
/** The longest code lifetime the agent accepts (Entra's are 15 minutes). */
export const MAX_CODE_LIFETIME_SEC = 86_400;

export class PollingGuard implements INetworkModule {
  lastReply: ServerErrorReply | undefined;
  /**
   * What was wrong with the last device code reply that the agent cannot fix by clamping (an
   * interval longer than the code's lifetime): the identity refuses that code with this text.
   */
  deviceCodeProblem: string | undefined;
  private readonly polls = new Map<string, PollState>();
  /** msal-node's derived device code URL → the server's real device authorization endpoint. */
  private readonly deviceEndpoints = new Map<string, string>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly inner: INetworkModule, private readonly options: PollingGuardOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Starts watching the polls of one device code (the callback hands it over); returns the stop. */
  watch(deviceCode: string, watcher: PollWatcher): () => void {
    this.polls.set(deviceCode, { watcher, extraDelayMs: 0, failures: 0, offline: false });
    return () => this.polls.delete(deviceCode);
  }

  async sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    const response = await this.inner.sendGetRequestAsync<T>(url, options, timeout);
    if (response.status === 200 && url.includes('/.well-known/openid-configuration')) this.learnDiscovery(response.body);
    return response;
  }

  /**
   * msal-node derives the device code endpoint from the token endpoint ("/token" → "/devicecode")
   * and ignores the discovery document's `device_authorization_endpoint`. Entra's fits; other RFC
   * 8628 servers' often do not. Remember the real one, to send the request there.
   */
  learnDiscovery(document: unknown): void {
    if (typeof document !== 'object' || document === null) return;
    const { token_endpoint: token, device_authorization_endpoint: device } = document as Record<string, unknown>;
    if (typeof token !== 'string' || typeof device !== 'string') return;
    const derived = withoutQuery(token.replace('/token', '/devicecode'));
    if (derived !== withoutQuery(device)) this.deviceEndpoints.set(derived, device);
  }

  async sendPostRequestAsync<T>(originalUrl: string, originalOptions?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const { url, options } = this.rewrite(originalUrl, originalOptions);
    const poll = this.pollOf(options?.body);
    if (!poll) {
      const response = await this.inner.sendPostRequestAsync<T>(url, options);
      if (isDeviceCodeEndpoint(originalUrl) && (response.status === 429 || response.status >= 500)) {
        // msal-node would hand the callback a code of undefined fields. Say what it is: the service
        // is unavailable for now (the agent retries with back-off).
        throw new AuthError('temporarily_unavailable', options?.correlationId ?? '', `the device code endpoint answered HTTP ${response.status}`);
      }
      return this.observe(originalUrl, response);
    }

    if (poll.extraDelayMs > 0) await this.sleep(poll.extraDelayMs);
    let response: NetworkResponse<T>;
    try {
      response = await this.inner.sendPostRequestAsync<T>(url, options);
    } catch (err) {
      if (!isTransientFailure(err)) throw err;
      return this.keepPolling<T>(poll, describeFailure(err));
    }
    const body = response.body as Record<string, unknown> | undefined;
    const error = body && typeof body === 'object' && typeof body.error === 'string' ? body.error : undefined;
    if (response.status === 429 || response.status >= 500) {
      return this.keepPolling<T>(poll, `HTTP ${response.status}${error ? ` ${error}` : ''}`, parseRetryAfter(headerValue(response.headers, 'retry-after'), { date: headerValue(response.headers, 'date'), nowMs: this.now() }));
    }
    this.online(poll);
    if (error === 'slow_down') {
      poll.extraDelayMs += this.options.slowDownStepMs ?? 5_000;
      this.options.logger?.info({ event: 'device_code.slow_down', extra_delay_ms: poll.extraDelayMs }, `the server asked to poll more slowly: waiting ${poll.extraDelayMs / 1000} s more between polls`);
      return pending<T>(response.headers);
    }
    return this.observe(url, response);
  }

  /**
   * Speaks RFC 8628 where msal-node does not: the poll's grant type is the RFC's URN (msal-node
   * sends "device_code", which Entra also accepts but other servers refuse), and the device code
   * request goes to the discovered device authorization endpoint.
   */
  private rewrite(url: string, options: NetworkRequestOptions | undefined): { url: string; options: NetworkRequestOptions | undefined } {
    let target = url;
    const device = this.deviceEndpoints.get(withoutQuery(url));
    if (device) {
      const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
      target = device.includes('?') || !query ? device : `${device}${query}`;
    }
    const body = options?.body;
    if (!body || !/(^|&)grant_type=device_code(&|$)/.test(body)) return { url: target, options };
    const form = new URLSearchParams(body);
    form.set('grant_type', DEVICE_CODE_GRANT);
    const rewritten = form.toString();
    const headers = { ...(options?.headers ?? {}) };
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-length') headers[name] = String(Buffer.byteLength(rewritten));
    return { url: target, options: { ...options, body: rewritten, headers } };
  }

  private pollOf(body: string | undefined): PollState | undefined {
    if (!body || this.polls.size === 0) return undefined;
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type');
    if (grant !== 'device_code' && grant !== DEVICE_CODE_GRANT) return undefined;
    const code = form.get('device_code');
    return code ? this.polls.get(code) : undefined;
  }

  private async keepPolling<T>(poll: PollState, why: string, retryAfter?: number): Promise<NetworkResponse<T>> {
    poll.failures += 1;
    if (!poll.offline) {
      poll.offline = true;
      this.options.logger?.warn({ event: 'device_code.offline', reason: why }, `polling the sign-in server failed (${why}): still showing the same code and retrying; check the network if this lasts`);
      poll.watcher.offline(true);
    }
    // Exponential back-off (1 s doubling) with half-to-all jitter, capped; at least what the
    // server asked for, but never longer than the cap: the code on the screen is running out.
    const cap = this.options.maxOfflineBackoffMs ?? 30_000;
    const wait = Math.max(retryAfter ?? 0, backoffMs(poll.failures - 1, { baseMs: 1_000, maxMs: cap, jitter: 'half' }, this.random));
    await this.sleep(Math.min(wait, cap));
    return pending<T>({});
  }

  private online(poll: PollState): void {
    poll.failures = 0;
    if (!poll.offline) return;
    poll.offline = false;
    this.options.logger?.info({ event: 'device_code.online' }, 'the sign-in server answers again');
    poll.watcher.offline(false);
  }

  private observe<T>(url: string, response: NetworkResponse<T>): NetworkResponse<T> {
    const body = response.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return response;
    if (isDeviceCodeEndpoint(url) && response.status === 200) {
      // Some servers (Google's, for one) spell it verification_url.
      if (body.verification_uri === undefined && typeof body.verification_url === 'string') body.verification_uri = body.verification_url;
      this.deviceCodeProblem = undefined;
      const interval = body.interval;
      const lifetime = body.expires_in;
      if (typeof lifetime === 'number' && lifetime > MAX_CODE_LIFETIME_SEC) {
        // 1e13 s would overflow Date; nobody types a code a day later anyway.
        this.options.logger?.info({ event: 'device_code.capped', expires_in: lifetime, max: MAX_CODE_LIFETIME_SEC },
          `the server gave the code a lifetime of ${lifetime} s; using ${MAX_CODE_LIFETIME_SEC} s (a day)`);
        body.expires_in = MAX_CODE_LIFETIME_SEC;
      }
      if (typeof interval !== 'number' || !Number.isFinite(interval)) {
        body.interval = RFC8628_DEFAULT_INTERVAL_SEC; // RFC 8628 §3.2: 5 s when the server says nothing
      } else {
        if (typeof lifetime === 'number' && interval > lifetime) {
          this.deviceCodeProblem = `interval ${interval} s is longer than the code's lifetime (expires_in ${lifetime} s)`;
        }
        // Clamped both ways: below the floor is a request storm; above a minute (or past Node's
        // 2^31 ms timer limit, which fires at once) a code nobody sees answered.
        body.interval = Math.min(MAX_POLL_INTERVAL_SEC, Math.max(this.options.minIntervalSec, interval));
      }
    }
    if (typeof body.error === 'string' && body.error !== PENDING) {
      this.lastReply = {
        error: body.error,
        codes: Array.isArray(body.error_codes) ? body.error_codes.filter((c): c is number => typeof c === 'number') : [],
        // Scrubbed before the cut: it is logged and shown, and a proxy may echo a token into it.
        description: typeof body.error_description === 'string' ? scrubSecrets(body.error_description.split(/\r?\n/)[0]!).slice(0, 300) : '',
        at: this.now(),
      };
    }
    return response;
  }
}

/** What msal-node needs to keep polling: the reply a server sends while it waits for the person. */
function pending<T>(headers: Record<string, string>): NetworkResponse<T> {
  return { status: 400, headers, body: { error: PENDING, error_description: 'polling continues (the device saw a transient failure)' } as T };
}

function isTransientFailure(err: unknown): boolean {
  const transport = transportFailureOf(err);
  if (transport) return transport.failure !== 'tls' && transport.failure !== 'aborted';
  // An HTML page instead of JSON: a captive portal or a proxy's error page.
  for (let c: unknown = err, depth = 0; c && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof UnexpectedResponseError) return true;
  }
  return false;
}

function describeFailure(err: unknown): string {
  const transport = transportFailureOf(err);
  if (transport) return transport.message;
  for (let c: unknown = err, depth = 0; c && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof UnexpectedResponseError) return c.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function withoutQuery(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

function isDeviceCodeEndpoint(url: string): boolean {
  try {
    return new URL(url).pathname.endsWith('/devicecode');
  } catch {
    return false;
  }
}
