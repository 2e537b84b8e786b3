import type { IncomingHttpHeaders } from 'node:http';

/**
 * The fault queue: a test pushes what should go wrong, and the next requests to that endpoint
 * (that pass `match`) get it instead of, or before, the normal reply. Faults are consumed in
 * push order; one with `count: n` serves n matching requests (`Infinity`: until cleared).
 *
 * What a fault does, in this order:
 *  1. `delayMs`: wait that long first (`Infinity`: never answer, a hung server, until close()).
 *  2. `destroySocket: true`: drop the connection with no reply (the client sees a reset / hang-up).
 *  3. `status`: answer with it, `body` (a string as is, a Buffer as bytes, anything else as JSON; default: an
 *     Entra- or Graph-style error for the status), `contentType`, `headers`.
 *  4. Neither 2 nor 3: the normal reply, after the delay (a slow server).
 *
 * Examples:
 *   faults.push({ endpoint: 'token', status: 400, body: { error: 'slow_down', error_description: 'Slow down' } })
 *   faults.push({ endpoint: 'graph', status: 429, headers: { 'Retry-After': '7' }, count: 2 })
 *   faults.push({ endpoint: 'token', status: 502, contentType: 'text/html', body: '<html>Bad gateway</html>' })
 *   faults.push({ endpoint: 'token', destroySocket: true, match: (r) => r.grantType === 'refresh_token' })
 *   faults.push({ endpoint: 'devicecode', delayMs: Infinity })
 */

/** Which part of the emulator a request is for. */
export type FaultEndpoint = 'openid' | 'jwks' | 'devicecode' | 'token' | 'graph' | 'page';

/** What `match` sees of a request. */
export interface FaultRequest {
  endpoint: FaultEndpoint;
  method: string;
  /** Path without the query string, e.g. '/organizations/oauth2/v2.0/token', '/v1.0/me'. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed form body of a POST (token, devicecode, page). */
  form?: URLSearchParams;
  /** `grant_type` of a token request: 'device_code', 'urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'. */
  grantType?: string;
}

export interface Fault {
  endpoint: FaultEndpoint;
  status?: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  delayMs?: number;
  destroySocket?: boolean;
  /** How many matching requests this fault serves; 1 by default. */
  count?: number;
  match?: (req: FaultRequest) => boolean;
}

export class FaultQueue {
  private queue: Array<{ fault: Fault; remaining: number }> = [];

  push(...faults: Fault[]): number {
    for (const fault of faults) {
      const remaining = fault.count ?? 1;
      if (!(remaining >= 1)) throw new Error(`fault count must be at least 1 (got ${String(fault.count)})`);
      if (fault.status === undefined && !fault.destroySocket && fault.delayMs === undefined) {
        throw new Error('a fault needs a status, destroySocket or delayMs');
      }
      this.queue.push({ fault, remaining });
    }
    return this.queue.length;
  }

  /** The first queued fault that applies to this request, consumed once. */
  take(req: FaultRequest): Fault | undefined {
    const index = this.queue.findIndex((entry) => entry.fault.endpoint === req.endpoint && (entry.fault.match?.(req) ?? true));
    const entry = this.queue[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.queue.splice(index, 1);
    return entry.fault;
  }

  /** Faults not yet (fully) consumed: lets a test assert that its faults were hit. */
  get length(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue = [];
  }
}
