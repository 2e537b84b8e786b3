import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import { MIB, readRegularFile } from '../config/files.js';

/** A CA bundle is a few kilobytes (the whole Mozilla store is about 220 KiB). */
const MAX_CA_FILE_BYTES = MIB;

/**
 * One small HTTPS client for both msal-node (through its network module) and Graph.
 *
 * Why not global `fetch`: it trusts extra CAs only through NODE_EXTRA_CA_CERTS read at process
 * start, has no per-request CA without the separate `undici` package, and msal-node turns every
 * fetch failure into an error that ends the whole device code attempt. Here every request has a
 * CA bundle (the system roots plus the configured extra CA, for test servers and TLS-inspecting
 * proxies) and a timeout, and failures come back as typed {@link TransportError}s the callers can
 * retry. TLS verification is never turned off.
 */

export interface HttpsRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Whole-request timeout (connect + response); a hung connection must not hang a poll. */
  timeoutMs: number;
  /** Largest body accepted; a bigger one is a transport error, not an out-of-memory. */
  maxBodyBytes?: number;
  signal?: AbortSignal;
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Why a request produced no HTTP response. */
export type TransportFailure = 'timeout' | 'connection' | 'dns' | 'tls' | 'too-large' | 'aborted';

export class TransportError extends Error {
  constructor(
    readonly failure: TransportFailure,
    readonly url: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface HttpsClientOptions {
  /** PEM text of extra CA certificates, trusted in addition to the system roots. */
  extraCaPem?: string;
}

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;

/**
 * One TLS context that trusts Node's root certificates and the extra CA, made once. Not
 * `ca: [...tls.rootCertificates, extra]`: that parses some 140 PEM strings again into a store of
 * their own (about 1.7 MiB more resident for the life of the daemon) and makes the whole bundle,
 * 200 KiB of text, part of the agent's socket-pool key. `addCACert` on a context that uses the
 * built-in roots copies that store and adds to the copy, as NODE_EXTRA_CA_CERTS does.
 */
function withExtraCa(pem: string): tls.SecureContext {
  const context = tls.createSecureContext();
  const native = (context as { context?: { addCACert?: (cert: string) => void } }).context;
  if (typeof native?.addCACert !== 'function') return tls.createSecureContext({ ca: [...tls.rootCertificates, pem] });
  native.addCACert(pem);
  return context;
}

export class HttpsClient {
  private readonly agent: https.Agent;

  constructor(options: HttpsClientOptions = {}) {
    const secureContext = options.extraCaPem ? withExtraCa(options.extraCaPem) : undefined;
    // keepAlive: a device polls the same host every few seconds; reusing the TLS session saves
    // a handshake (CPU and radio time) per poll.
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 4, ...(secureContext ? { secureContext } : {}) });
  }

  /** Reads an extra CA file, with an error that names the file when it cannot. */
  static fromCaFile(caFile: string | undefined): HttpsClient {
    if (!caFile) return new HttpsClient();
    // Bounded and type-checked like the configuration check (a file swapped for /dev/zero since).
    return new HttpsClient({ extraCaPem: readRegularFile(caFile, { maxBytes: MAX_CA_FILE_BYTES }).data.toString('utf8') });
  }

  request(req: HttpsRequest): Promise<HttpsResponse> {
    const url = new URL(req.url);
    if (url.protocol !== 'https:') {
      return Promise.reject(new TransportError('connection', req.url, undefined, `refusing a non-HTTPS URL: ${url.origin}`));
    }
    const maxBody = req.maxBodyBytes ?? DEFAULT_MAX_BODY;
    return new Promise<HttpsResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: TransportError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.destroy();
        reject(err);
      };
      // A Content-Length, not a chunked body: some proxies and older servers refuse chunked POSTs.
      const headers = req.body !== undefined ? { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) } : req.headers;
      const request = https.request(
        url,
        { method: req.method, headers, agent: this.agent, signal: req.signal },
        (res: http.IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBody) {
              fail(new TransportError('too-large', req.url, undefined, `response from ${url.host} is larger than ${maxBody} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (err: NodeJS.ErrnoException) => fail(classify(err, req.url)));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      const timer = setTimeout(() => {
        fail(new TransportError('timeout', req.url, 'ETIMEDOUT', `no response from ${url.host} within ${req.timeoutMs} ms`));
      }, req.timeoutMs);
      request.on('error', (err: NodeJS.ErrnoException) => fail(classify(err, req.url)));
      if (req.body !== undefined) request.write(req.body);
      request.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function classify(err: NodeJS.ErrnoException, url: string): TransportError {
  const code = err.code;
  const host = safeHost(url);
  if (err.name === 'AbortError') return new TransportError('aborted', url, code, `request to ${host} was cancelled`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new TransportError('dns', url, code, `cannot resolve ${host} (${code}): check the network and DNS`);
  }
  if (code && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('UNABLE_TO_') || code.includes('CERT') || code === 'HOSTNAME_MISMATCH')) {
    return new TransportError('tls', url, code,
      `TLS certificate of ${host} is not trusted (${code}): behind a TLS-inspecting proxy or with a private CA, set "network.caFile" to its CA certificate`);
  }
  return new TransportError('connection', url, code, `connection to ${host} failed (${code ?? err.message})`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** True for the failures worth retrying: the network may come back. TLS trust problems will not. */
export function isTransient(err: unknown): boolean {
  return err instanceof TransportError && err.failure !== 'tls' && err.failure !== 'aborted';
}
