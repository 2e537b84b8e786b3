import http from 'node:http';
import { TransportError, type HttpsRequest, type HttpsResponse } from './https.js';

/**
 * Plain HTTP to this device only (127.0.0.1 or [::1]): a notification relay running beside the
 * agent. Anything else is refused: notifications leave the device over HTTPS (https.ts) or not
 * at all. Same timeout and size limit as the HTTPS client; no keep-alive (a few requests a day).
 */
export function isLoopbackHttp(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === '[::1]');
  } catch {
    return false;
  }
}

export function loopbackHttpRequest(req: HttpsRequest): Promise<HttpsResponse> {
  if (!isLoopbackHttp(req.url)) {
    return Promise.reject(new TransportError('connection', req.url, undefined, 'refusing plain http:// to anything but 127.0.0.1 or [::1]'));
  }
  const maxBody = req.maxBodyBytes ?? 64 * 1024;
  return new Promise<HttpsResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: TransportError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(err);
    };
    const headers = req.body !== undefined ? { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) } : req.headers;
    const request = http.request(req.url, { method: req.method, headers, agent: false, signal: req.signal }, (res) => {
      let size = 0;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) fail(new TransportError('too-large', req.url, undefined, `response larger than ${maxBody} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(new TransportError('connection', req.url, err.code, `connection to ${new URL(req.url).host} failed (${err.code ?? err.message})`)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const timer = setTimeout(() => fail(new TransportError('timeout', req.url, 'ETIMEDOUT', `no response from ${new URL(req.url).host} within ${req.timeoutMs} ms`)), req.timeoutMs);
    request.on('error', (err: NodeJS.ErrnoException) => fail(err.name === 'AbortError'
      ? new TransportError('aborted', req.url, err.code, 'request cancelled')
      : new TransportError('connection', req.url, err.code, `connection to ${new URL(req.url).host} failed (${err.code ?? err.message})`)));
    if (req.body !== undefined) request.write(req.body);
    request.end();
  });
}
