import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { TransportError, isTransient } from '../net/https.js';
import type { HttpsClient, HttpsResponse } from '../net/https.js';
import { scrubSecrets } from '../net/scrub.js';
import type { Logger } from '../log.js';
import { backoffMs } from '../retry/backoff.js';
import { parseRetryAfter } from '../retry/retry-after.js';
import { DEFAULT_RETRY_POLICY } from './retry.js';
import type { RetryPolicy } from './retry.js';
import { MAX_JSON_DEPTH, isRecord, oneLine, parseBody, parseGraphError, permissionFor } from './response.js';
import type { GraphError } from './response.js';
import { GraphThrottle, MAX_HOLD_MS } from './throttle.js';

/**
 * A small Graph client for a handful of scheduled GETs.
 *
 * Why not `@microsoft/microsoft-graph-client`: its RetryHandler covers 429/503/504 but not
 * network errors (the common failure of a Pi on Wi-Fi), it runs on global `fetch` (no per-request
 * CA for TLS-inspecting proxies), and it would be a dependency for four GETs an hour. This file
 * is the whole policy: Retry-After, back-off with jitter, one token refresh on 401, and results a
 * person can read.
 */

/** Implemented by the agent with msal-node's acquireTokenSilent. What it throws propagates. */
export interface TokenProvider {
  getAccessToken(opts: { forceRefresh: boolean }): Promise<string>;
}

export type GraphFailureKind =
  | 'forbidden' | 'not-found' | 'throttled' | 'server' | 'network' | 'unauthorized' | 'not-json' | 'bad-request';

export type GraphResult =
  | { ok: true; status: number; data: unknown; requestId?: string; attempts: number }
  | {
      ok: false;
      kind: GraphFailureKind;
      status?: number;
      /** Graph's `error.code` (branch on this, never on the message). */
      code?: string;
      /** One line a person understands. */
      message: string;
      requestId?: string;
      attempts: number;
      /** Set when Graph asked for a longer wait than this client does: when to try again. */
      retryAfterMs?: number;
    };

export interface GraphGetOptions {
  /** Per HTTP attempt (connect + response); retries and their waits come on top. */
  timeoutMs: number;
  /** Job name for the logs. */
  job?: string;
  /** Aborting rejects `get` with the signal's reason; nothing is retried after it. */
  signal?: AbortSignal;
}

export interface GraphClientOptions {
  http: Pick<HttpsClient, 'request'>;
  /** e.g. https://graph.microsoft.com/v1.0 (sovereign clouds have their own hosts). */
  baseUrl: string;
  tokens: TokenProvider;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** Waits between attempts; injected so tests record delays instead of waiting. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Wall clock in ms, for Retry-After dates without a Date header, and for durations. */
  now?: () => number;
  /**
   * The zone calendar times come back in (`Prefer: outlook.timezone`): IANA or Windows name.
   * Without it Graph answers in UTC, and "Next: 10:30" is an hour or more off on the screen.
   */
  timeZone?: string;
}

/** Returns an error message when `path` is not a Graph path this client can call. */
export function validateGraphPath(path: string): string | undefined {
  if (!path.startsWith('/')) return `Graph path "${path}" must start with "/" (e.g. "/me"), relative to the Graph base URL`;
  if (path.startsWith('//')) return `Graph path "${path}" must not start with "//"`;
  if (/\s/.test(path)) return `Graph path "${path}" must not contain spaces (URL-encode them)`;
  return undefined;
}

const THROTTLING_STATUSES = new Set([429, 503, 504]);

/** Where a request stands across its attempts. */
interface AttemptState {
  attempts: number;
  refreshed: boolean;
  forceRefresh: boolean;
}

/** What one attempt decided: the result, or another attempt (after a wait, or at once). */
type Step =
  | { result: GraphResult }
  | { again: true; wait?: { ms: number; context: Record<string, unknown> } };

export class GraphClient {
  private readonly http: Pick<HttpsClient, 'request'>;
  private readonly baseUrl: string;
  private readonly tokens: TokenProvider;
  private readonly log: Logger;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Retry-After holds every request of this client, whichever job it serves; one request at a time. */
  readonly throttle: GraphThrottle;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly prefer: Record<string, string>;

  constructor(options: GraphClientOptions) {
    this.http = options.http;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.tokens = options.tokens;
    this.log = options.logger;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, signal ? { signal } : {}));
    this.throttle = new GraphThrottle({ now: () => this.now(), sleep: (ms, signal) => this.sleep(ms, signal), logger: this.log });
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.prefer = options.timeZone ? { prefer: `outlook.timezone="${options.timeZone}"` } : {};
  }

  async get(path: string, opts: GraphGetOptions): Promise<GraphResult> {
    const invalid = validateGraphPath(path);
    if (invalid) throw new TypeError(invalid);
    const { signal } = opts;
    const state: AttemptState = { attempts: 0, refreshed: false, forceRefresh: false };
    for (;;) {
      signal?.throwIfAborted();
      // One request at a time, and none inside a Retry-After window (throttle.ts). The turn ends
      // with the answer; a back-off wait happens outside it.
      const endTurn = await this.throttle.acquire(signal);
      let step: Step;
      try {
        step = await this.attempt(path, opts, state);
      } finally {
        endTurn();
      }
      if ('result' in step) return step.result;
      if (step.wait) await this.wait(step.wait.ms, step.wait.context, signal);
    }
  }

  /** One HTTP attempt: its result, or "again" (after a wait, or at once). */
  private async attempt(path: string, opts: GraphGetOptions, state: AttemptState): Promise<Step> {
    const url = `${this.baseUrl}${path}`;
    const { job, signal } = opts;
    // Asked on every attempt: after a long Retry-After the token may have expired, and msal
    // answers from its cache when it has not. Its errors ("needs sign-in") are the caller's.
    const token = await this.tokens.getAccessToken({ forceRefresh: state.forceRefresh });
    state.forceRefresh = false;
    state.attempts += 1;
    const attempts = state.attempts;
    // The one refresh retry after a 401 does not use up the retry budget.
    const canRetry = attempts < this.policy.maxAttempts + (state.refreshed ? 1 : 0);
    const clientRequestId = randomUUID();
    const started = this.now();

    let response: HttpsResponse;
    try {
      response = await this.http.request({
        method: 'GET',
        url,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'client-request-id': clientRequestId,
          'return-client-request-id': 'true',
          'user-agent': 'graph-device-agent',
          // Calendar times in the device's (or the configured) zone, not UTC.
          ...this.prefer,
        },
        timeoutMs: opts.timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      signal?.throwIfAborted();
      if (!(err instanceof TransportError)) throw err;
      // Each attempt at info: the job's line says how the run ended, and going offline is logged once.
      this.log.info({
        event: 'graph.request', job, path, attempt: attempts, failure: err.failure, error_code: err.code,
        duration_ms: this.now() - started, client_request_id: clientRequestId,
      }, `GET ${path}: ${err.message}`);
      if (isTransient(err) && canRetry) {
        return { again: true, wait: { ms: this.backoffMs(attempts), context: { job, path, reason: err.failure } } };
      }
      const gaveUp = attempts > 1 ? ` (gave up after ${attempts} attempts)` : '';
      return { result: { ok: false, kind: 'network', message: `${err.message}${gaveUp}`, attempts } };
    }

    const { status } = response;
    const body = parseBody(response.body, response.headers['content-type'], response.headers['content-encoding']);
    const graphError = body.json && status >= 400 ? parseGraphError(body.data) : undefined;
    const header = response.headers['request-id'];
    const requestId = header !== undefined ? oneLine(scrubSecrets(header), 100) : graphError?.requestId;
    // Each attempt at info (a 401 is refreshed, a 429 or 5xx retried): the job's line says how it ended.
    this.log.info({
      event: 'graph.request', job, path, attempt: attempts, status, duration_ms: this.now() - started,
      request_id: requestId, client_request_id: clientRequestId, ...(graphError?.code ? { code: graphError.code } : {}),
    }, `GET ${path} \u2192 ${status}`);
    // Bodies hold personal data (names, mail): only when someone asked for debug. Scrubbed of
    // tokens (a proxy may echo the Authorization header) before the cut, so no half token is left.
    this.log.debug({ event: 'graph.response', job, path, status, body: scrubSecrets(response.body).slice(0, 4096) }, `GET ${path} body`);

    if (status === 401 && !state.refreshed) {
      // A Pi without a real-time clock may hold a token its clock thinks valid: get a new one
      // once. A second 401 is an answer, not a glitch.
      state.refreshed = true;
      state.forceRefresh = true;
      this.log.info({ event: 'graph.token_refresh', job, path, request_id: requestId }, 'Graph rejected the access token; refreshing it once');
      return { again: true };
    }

    if (THROTTLING_STATUSES.has(status) || status >= 500) {
      const asked = THROTTLING_STATUSES.has(status)
        ? parseRetryAfter(response.headers['retry-after'], { date: response.headers['date'], nowMs: this.now() })
        : undefined;
      // Every job's requests wait out the window, not only this one's retry (at most MAX_HOLD_MS).
      if (asked !== undefined) this.throttle.hold(asked, { status, job, path, request_id: requestId });
      if (asked !== undefined && asked > this.policy.maxRetryAfterMs) {
        return { result: this.failure(path, status, body, graphError, requestId, attempts, asked, response.headers['location']) };
      }
      if (canRetry && asked !== undefined) {
        // The throttle holds this retry, and everyone else's, until the window has passed.
        this.log.info({ event: 'graph.retry', job, path, reason: `HTTP ${status}`, request_id: requestId, retry_after: true, delay_ms: asked },
          `retrying ${path} in ${Math.round(asked / 100) / 10} s (Retry-After)`);
        return { again: true };
      }
      if (canRetry) {
        // Never straight back after a throttling answer, even without Retry-After.
        const floor = THROTTLING_STATUSES.has(status) ? this.policy.baseDelayMs : 0;
        return { again: true, wait: { ms: Math.max(floor, this.backoffMs(attempts)), context: { job, path, reason: `HTTP ${status}`, request_id: requestId, retry_after: false } } };
      }
      return { result: this.failure(path, status, body, graphError, requestId, attempts) };
    }

    if (status >= 200 && status < 300 && body.json) {
      // Graph's answers are objects (an entity, or a collection's { value: [...] }); an empty body
      // (204) is null. An array, a string, a number or a `null` in a body is not Graph talking.
      const notGraph = body.data === null ? response.body.trim() !== '' : !isRecord(body.data);
      if (notGraph) {
        return { result: { ok: false, kind: 'not-json', status, attempts, ...(requestId ? { requestId } : {}),
          message: `Graph answered HTTP ${status} with JSON that is ${jsonKind(body.data)}, not an object: not a Graph answer (a proxy?)` } };
      }
      return { result: { ok: true, status, data: body.data, attempts, ...(requestId ? { requestId } : {}) } };
    }
    return { result: this.failure(path, status, body, graphError, requestId, attempts, undefined, response.headers['location']) };
  }

  /**
   * Exponential back-off with full jitter (0 to the ceiling), so devices that failed together do
   * not retry together. `attempt` counts from 1.
   */
  private backoffMs(attempt: number): number {
    return backoffMs(attempt - 1, { baseMs: this.policy.baseDelayMs, maxMs: this.policy.maxDelayMs, jitter: 'full' }, this.random);
  }

  private async wait(ms: number, context: Record<string, unknown>, signal: AbortSignal | undefined): Promise<void> {
    this.log.info({ event: 'graph.retry', ...context, delay_ms: ms }, `retrying ${String(context['path'])} in ${Math.round(ms / 100) / 10} s`);
    try {
      await this.sleep(ms, signal);
    } catch (err) {
      // timers/promises rejects with its own AbortError; callers get the reason they gave.
      signal?.throwIfAborted();
      throw err;
    }
  }

  private failure(
    path: string,
    status: number,
    body: ReturnType<typeof parseBody>,
    graphError: GraphError | undefined,
    requestId: string | undefined,
    attempts: number,
    retryAfter?: number,
    location?: string,
  ): GraphResult {
    const base = {
      ok: false as const,
      status,
      attempts,
      ...(graphError?.code ? { code: graphError.code } : {}),
      ...(requestId ? { requestId } : {}),
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    };
    if (status >= 300 && status < 400) {
      // The HTTPS client follows no redirect: the access token goes to graph.baseUrl's host only.
      return { ...base, kind: 'bad-request', message: `Graph answered ${path} with a redirect (HTTP ${status}) to ${redirectTarget(location)}, not followed: the access token is only sent to graph.baseUrl; check graph.baseUrl and any proxy` };
    }
    if (!body.json) {
      const message = body.encoding
        ? `Graph answered HTTP ${status} with a body in Content-Encoding "${body.encoding}", which the agent does not ask for: a proxy?`
        : body.tooDeep
        ? `Graph answered HTTP ${status} with JSON nested deeper than ${MAX_JSON_DEPTH} levels: not a Graph answer (a proxy?)`
        : body.malformed
        ? `Graph answered HTTP ${status} with JSON that does not parse (cut off?): a proxy or captive portal?`
        : `Graph answered HTTP ${status} with ${body.contentType || 'a body without a content type'}, not JSON: a proxy or captive portal?`;
      return { ...base, kind: 'not-json', message };
    }
    const code = graphError?.code ?? `HTTP ${status}`;
    const said = graphError?.message ? `: ${oneLine(graphError.message)}` : '';
    const gaveUp = attempts > 1 ? `, gave up after ${attempts} attempts` : '';
    const held = retryAfter !== undefined ? Math.min(retryAfter, MAX_HOLD_MS) : 0;
    const later = retryAfter === undefined ? ''
      : held < retryAfter
        ? `; Graph asked to wait ${Math.ceil(retryAfter / 1000)} s; Graph requests wait ${Math.ceil(held / 1000)} s (the longest this agent holds them), then the next run tries again`
        : `; Graph asked to wait ${Math.ceil(retryAfter / 1000)} s, longer than this agent waits in one run: Graph requests wait until then, and the next run tries again`;

    if (status === 401) {
      return { ...base, kind: 'unauthorized', message: `Graph rejected the access token for ${path} even after a refresh (${code})${said}; check the device clock, or sign in again` };
    }
    if (status === 403) {
      return { ...base, kind: 'forbidden', message: forbiddenMessage(path, graphError, said) };
    }
    if (status === 404) {
      return { ...base, kind: 'not-found', message: `nothing at ${path} (${code})${said}` };
    }
    if (status === 429) {
      return { ...base, kind: 'throttled', message: `Graph is throttling requests for ${path} (${code})${gaveUp}${later}` };
    }
    if (status >= 500) {
      const statusAndCode = graphError?.code ? `HTTP ${status}, ${graphError.code}` : `HTTP ${status}`;
      return { ...base, kind: 'server', message: `Graph had a server problem with ${path} (${statusAndCode})${said}${gaveUp}${later}` };
    }
    // 400 and the other 4xx (and a 3xx: nothing on Graph's GET paths redirects).
    const statusAndCode = graphError?.code ? `HTTP ${status}, ${graphError.code}` : `HTTP ${status}`;
    return { ...base, kind: 'bad-request', message: `Graph refused ${path} (${statusAndCode})${said}` };
  }
}

/** The host a redirect points at, for the message: printable and short, never the whole URL (it may hold a token). */
function redirectTarget(location: string | undefined): string {
  if (location === undefined || location.trim() === '') return 'nowhere (no Location)';
  try {
    return oneLine(new URL(location).host || 'a relative address', 100);
  } catch {
    return 'an address that is not a URL';
  }
}

/** What a JSON value is, in words. */
function jsonKind(data: unknown): string {
  if (data === null) return 'null';
  if (Array.isArray(data)) return 'an array';
  return `a ${typeof data}`;
}

function forbiddenMessage(path: string, graphError: GraphError | undefined, said: string): string {
  // The message leads with what to do, in under 21 characters: the screen shows one line of it.
  const code = graphError?.code ?? 'HTTP 403';
  if (code === 'insufficient_claims') {
    return `Sign in again: Conditional Access wants more from this sign-in before ${path} (insufficient_claims)${said}; sign in on a compliant network or device`;
  }
  const permission = permissionFor(path);
  if (!permission) {
    return `Permission missing: Graph denied ${path} (${code})${said}; the app lacks a permission this call needs (see Entra ID, API permissions, and auth.scopes)`;
  }
  const consent = permission === 'User.Read' ? '' : ' (often with admin consent)';
  return `Needs ${permission}: Graph denied ${path} (${code})${said}; grant the app the delegated permission ${permission}${consent} in Entra ID under API permissions, and list it in auth.scopes`;
}
