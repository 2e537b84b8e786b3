/**
 * A real HTTPS server on 127.0.0.1 that plays Graph, with the identity emulator's test certificate,
 * trusted by the client through `extraCaPem` (as a TLS-inspecting proxy's CA would be), plus a
 * log capture that parses pino's NDJSON.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/log.js';
import type { Logger } from '../../src/log.js';
import { sharedTlsMaterial } from '../support/identity-emulator/index.js';

export interface RecordedRequest {
  method: string;
  /** Path and query, without the /v1.0 prefix. */
  path: string;
  headers: IncomingMessage['headers'];
}

export type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

export interface FakeGraph {
  /** e.g. https://127.0.0.1:PORT/v1.0 */
  baseUrl: string;
  caPem: string;
  requests: RecordedRequest[];
  /** Calls `handler` for each request; `index` counts from 0 across the server's life. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeGraph(handler: Handler = (_req, res) => json(res, 200, {})): Promise<FakeGraph> {
  // The identity emulator's CA and certificate (made once, kept for a day), sent as a chain with
  // its CA, as TLS-inspecting proxies send it.
  const tls = await sharedTlsMaterial();
  const { caPem, keyPem } = tls;
  const certPem = tls.certPem + tls.caPem;
  const requests: RecordedRequest[] = [];
  let current = handler;
  const server = https.createServer({ key: keyPem, cert: certPem }, (req, res) => {
    const path = (req.url ?? '').replace(/^\/v1\.0/, '');
    requests.push({ method: req.method ?? '', path, headers: req.headers });
    current(req, res, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `https://127.0.0.1:${port}/v1.0`,
    caPem,
    requests,
    handle: (h) => {
      current = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal', ...headers });
  res.end(text);
}

/** Graph's error shape; `inner` picks the spelling (the spec's `innererror` or the docs' `innerError`). */
export function graphError(code: string, message: string, requestId = 'rid-body', inner: 'innerError' | 'innererror' = 'innerError') {
  return { error: { code, message, [inner]: { date: '2026-11-28T10:00:00', 'request-id': requestId, 'client-request-id': 'x' } } };
}

export const ADELE = {
  '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
  businessPhones: ['+1 425 555 0109'],
  displayName: 'Adele Vance',
  givenName: 'Adele',
  jobTitle: 'Retail Manager',
  mail: 'AdeleV@contoso.com',
  mobilePhone: null,
  officeLocation: '18/2111',
  preferredLanguage: 'en-US',
  surname: 'Vance',
  userPrincipalName: 'AdeleV@contoso.com',
  id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
};

export interface LogCapture {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  raw: string[];
  events(name: string): Array<Record<string, unknown>>;
}

export function captureLogs(level: 'info' | 'debug' = 'debug'): LogCapture {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const logger = createLogger({
    level,
    destination: {
      write(chunk: string) {
        raw.push(chunk);
        lines.push(JSON.parse(chunk) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, raw, events: (name) => lines.filter((l) => l['event'] === name) };
}

/** A token provider that hands out numbered tokens and records how it was asked. */
export function countingTokens() {
  const calls: Array<{ forceRefresh: boolean }> = [];
  let issued = 0;
  return {
    calls,
    getAccessToken: async (opts: { forceRefresh: boolean }) => {
      calls.push(opts);
      if (opts.forceRefresh || issued === 0) issued += 1;
      return `eyJ0eXAi.secret-access-token-${issued}`;
    },
  };
}

/** A sleep that records what it was asked and returns at once, with the server's request count at the time. */
export function recordingSleep(countRequests: () => number = () => 0) {
  const delays: Array<{ ms: number; requestsBefore: number }> = [];
  return {
    delays,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      delays.push({ ms, requestsBefore: countRequests() });
    },
  };
}
