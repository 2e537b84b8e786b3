import { AuthError, ClientAuthErrorCodes, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import type { Logger } from '../log.js';
import { TransportError, type HttpsClient } from '../net/https.js';

/**
 * msal-node's network module (`system.networkClient`) on top of our {@link HttpsClient}: the
 * extra CA, a timeout on every request (msal's own client sets none on POSTs, so a hung
 * connection hangs a device code poll) and typed transport errors.
 *
 * It answers exactly like msal-node 7's default fetch client (dist/network/HttpClient.mjs), so
 * msal behaves the same:
 * - any status with a JSON body resolves to `{ headers, body: parsed JSON, status }`: the 400
 *   `authorization_pending` replies of the poll loop are answers, not failures;
 * - a body that is not JSON (an HTML 502, a captive portal) rejects with an `AuthError`
 *   `token_parsing_error` ("Failed to parse response: ...");
 * - no response at all rejects with an `AuthError` `network_error` ("Request timeout" /
 *   "Network request failed: ..."), which msal passes through unchanged.
 * Unlike msal's client, the `cause` of those errors is our {@link TransportError} (or an
 * {@link UnexpectedResponseError}), so the agent can tell "offline" from "server broken" with
 * {@link transportFailureOf}.
 */

export interface MsalNetworkClientOptions {
  http: HttpsClient;
  /** Per-request timeout; a GET with msal's own (shorter) timeout uses that one. */
  timeoutMs: number;
  logger: Logger;
  /** Monotonic milliseconds, for the logged duration. */
  now?: () => number;
}

/** An HTTP answer that is not JSON: an outage page, a proxy's error page, a captive portal. */
export class UnexpectedResponseError extends Error {
  constructor(
    readonly status: number,
    readonly contentType: string | undefined,
    /** host + path; never the query string. */
    readonly where: string,
  ) {
    super(`HTTP ${status} from ${where} is not JSON (content-type ${contentType ?? 'none'}): an outage page, a proxy or a captive portal?`);
    this.name = 'UnexpectedResponseError';
  }
}

export class MsalNetworkClient implements INetworkModule {
  private readonly http: HttpsClient;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(options: MsalNetworkClientOptions) {
    this.http = options.http;
    this.timeoutMs = options.timeoutMs;
    this.log = options.logger;
    this.now = options.now ?? (() => performance.now());
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout && timeout > 0 ? timeout : this.timeoutMs);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options, this.timeoutMs);
  }

  private async send<T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeoutMs: number): Promise<NetworkResponse<T>> {
    const where = hostAndPath(url);
    const correlationId = options?.correlationId ?? '';
    const headers: Record<string, string> = { ...(options?.headers ?? {}) };
    // Like fetch: an empty body for a POST without one, and a length (no chunked encoding).
    const body = method === 'POST' ? (options?.body || '') : undefined;
    if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const started = this.now();
    let response;
    try {
      response = await this.http.request({ method, url, headers, timeoutMs, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      const durationMs = Math.round(this.now() - started);
      const transport = err instanceof TransportError ? err : undefined;
      this.log.debug({ event: 'http.request', method, url: where, failure: transport?.failure ?? 'unknown', code: transport?.code, duration_ms: durationMs },
        `${method} ${where} failed: ${transport?.message ?? 'unexpected error'}`);
      throw networkError(err, correlationId);
    }
    const durationMs = Math.round(this.now() - started);
    this.log.debug({ event: 'http.request', method, url: where, status: response.status, duration_ms: durationMs }, `${method} ${where} ${response.status}`);
    let parsed: T;
    try {
      // fetch's json() ignores a UTF-8 byte order mark; so do we.
      parsed = JSON.parse(response.body.replace(/^\uFEFF/, '')) as T;
    } catch {
      const problem = new UnexpectedResponseError(response.status, response.headers['content-type'], where);
      const error = new AuthError(ClientAuthErrorCodes.tokenParsingError, correlationId, `Failed to parse response: ${problem.message}`);
      error.cause = problem;
      throw error;
    }
    return { headers: response.headers, body: parsed, status: response.status };
  }
}

function networkError(err: unknown, correlationId: string): AuthError {
  const message = err instanceof Error ? err.message : String(err);
  const text = err instanceof TransportError && err.failure === 'timeout'
    ? `Request timeout: ${message}`
    : `Network request failed: ${message}`;
  const error = new AuthError(ClientAuthErrorCodes.networkError, correlationId, text);
  error.cause = err;
  return error;
}

/** The transport failure behind an error from msal (walks the `cause` chain), if there is one. */
export function transportFailureOf(err: unknown): TransportError | undefined {
  for (let current: unknown = err, depth = 0; current !== undefined && current !== null && depth < 8; depth += 1) {
    if (current instanceof TransportError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Host and path for logs: the query string may carry a device code or a token. */
function hostAndPath(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
