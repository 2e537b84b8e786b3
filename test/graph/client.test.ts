import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HttpsClient } from '../../src/net/https.js';
import { GraphClient } from '../../src/graph/client.js';
import type { GraphResult, TokenProvider } from '../../src/graph/client.js';
import type { RetryPolicy } from '../../src/graph/retry.js';
import { ADELE, captureLogs, countingTokens, graphError, json, recordingSleep, startFakeGraph } from './support.js';
import type { FakeGraph, LogCapture } from './support.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const T0 = Date.parse('2026-11-28T10:00:00Z');

describe('GraphClient against a local HTTPS server', () => {
  let graph: FakeGraph;
  let http: HttpsClient;
  let logs: LogCapture;
  let tokens: ReturnType<typeof countingTokens>;
  let sleeper: ReturnType<typeof recordingSleep>;

  before(async () => {
    graph = await startFakeGraph();
    http = new HttpsClient({ extraCaPem: graph.caPem });
  });
  after(async () => {
    http.close();
    await graph.close();
  });
  beforeEach(() => {
    graph.requests.length = 0;
    logs = captureLogs('debug');
    tokens = countingTokens();
    sleeper = recordingSleep(() => graph.requests.length);
  });

  function client(retry: Partial<RetryPolicy> = {}, overrides: { tokens?: TokenProvider; http?: HttpsClient } = {}): GraphClient {
    return new GraphClient({
      http: overrides.http ?? http,
      baseUrl: `${graph.baseUrl}/`,
      tokens: overrides.tokens ?? tokens,
      logger: logs.logger,
      retry: { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 30_000, maxRetryAfterMs: 120_000, ...retry },
      sleep: sleeper.sleep,
      random: () => 1,
      now: () => T0,
    });
  }

  function failed(result: GraphResult) {
    assert.equal(result.ok, false, `expected a failure, got ${JSON.stringify(result)}`);
    if (result.ok) throw new Error('unreachable');
    return result;
  }

  it('returns the data, sends the token and a fresh client-request-id, and logs the request ids without the token', async () => {
    graph.handle((_req, res) => json(res, 200, ADELE, { 'request-id': 'rid-header-1' }));
    const graphClient = client();
    const first = await graphClient.get('/me', { timeoutMs: 5000, job: 'me' });
    await graphClient.get('/me', { timeoutMs: 5000, job: 'me' });

    assert.deepEqual(first, { ok: true, status: 200, data: ADELE, requestId: 'rid-header-1', attempts: 1 });
    const [a, b] = graph.requests;
    assert.equal(a?.path, '/me');
    assert.equal(a?.headers.authorization, 'Bearer eyJ0eXAi.secret-access-token-1');
    assert.match(String(a?.headers['client-request-id']), GUID);
    assert.match(String(b?.headers['client-request-id']), GUID);
    assert.notEqual(a?.headers['client-request-id'], b?.headers['client-request-id']);

    const [logged] = logs.events('graph.request');
    assert.equal(logged?.['job'], 'me');
    assert.equal(logged?.['path'], '/me');
    assert.equal(logged?.['status'], 200);
    assert.equal(logged?.['request_id'], 'rid-header-1');
    assert.equal(logged?.['client_request_id'], a?.headers['client-request-id']);
    assert.equal(typeof logged?.['duration_ms'], 'number');
    // The body is there at debug level, the token nowhere.
    assert.ok(logs.events('graph.response').some((l) => String(l['body']).includes('Adele Vance')));
    assert.ok(!logs.raw.join('').includes('secret-access-token'));
  });

  it('asks Graph for calendar times in the configured zone (Prefer: outlook.timezone), and sends no Prefer without one', async () => {
    graph.handle((_req, res) => json(res, 200, { value: [] }));
    const zoned = new GraphClient({ http, baseUrl: graph.baseUrl, tokens, logger: logs.logger, sleep: sleeper.sleep, timeZone: 'Europe/Berlin' });
    await zoned.get('/me/events', { timeoutMs: 5000 });
    await client().get('/me/events', { timeoutMs: 5000 });
    assert.equal(graph.requests[0]?.headers['prefer'], 'outlook.timezone="Europe/Berlin"');
    assert.equal(graph.requests[1]?.headers['prefer'], undefined);
  });

  it('keeps response bodies out of the log at info level', async () => {
    logs = captureLogs('info');
    graph.handle((_req, res) => json(res, 200, ADELE));
    await client().get('/me', { timeoutMs: 5000 });
    assert.equal(logs.events('graph.request').length, 1);
    assert.ok(!logs.raw.join('').includes('Adele Vance'));
  });

  it('waits the Retry-After seconds of a 429 before trying again', async () => {
    graph.handle((_req, res, i) =>
      i === 0 ? json(res, 429, graphError('TooManyRequests', 'Too many requests'), { 'retry-after': '7' }) : json(res, 200, ADELE));
    const result = await client().get('/me', { timeoutMs: 5000 });
    assert.equal(result.ok, true);
    assert.equal(result.attempts, 2);
    assert.deepEqual(sleeper.delays, [{ ms: 7000, requestsBefore: 1 }]);
    assert.equal(graph.requests.length, 2);
  });

  it('reads a Retry-After HTTP date against the response Date header, so a wrong device clock does not matter', async () => {
    graph.handle((_req, res, i) => {
      if (i > 0) return json(res, 200, ADELE);
      res.sendDate = false;
      json(res, 429, graphError('TooManyRequests', 'slow down'), {
        date: 'Wed, 01 Jan 2025 12:00:00 GMT',
        'retry-after': 'Wed, 01 Jan 2025 12:00:09 GMT',
      });
    });
    // The device clock (T0, in 2026) is far from the server's: only the server's two dates count.
    const result = await client().get('/me', { timeoutMs: 5000 });
    assert.equal(result.ok, true);
    assert.equal(sleeper.delays.length, 1);
    assert.ok(sleeper.delays[0]!.ms >= 9000, `waited ${sleeper.delays[0]!.ms} ms, asked 9000`);
    assert.equal(sleeper.delays[0]!.requestsBefore, 1);
  });

  it('reads a Retry-After HTTP date against the device clock when the response has no Date header', async () => {
    graph.handle((_req, res, i) => {
      if (i > 0) return json(res, 200, ADELE);
      res.sendDate = false;
      json(res, 503, graphError('serviceNotAvailable', 'busy'), { 'retry-after': new Date(T0 + 5000).toUTCString() });
    });
    const result = await client().get('/me', { timeoutMs: 5000 });
    assert.equal(result.ok, true);
    assert.ok(sleeper.delays[0]!.ms >= 5000, `waited ${sleeper.delays[0]!.ms} ms, asked 5000`);
  });

  it('retries a 503 without Retry-After after a back-off, never at once', async () => {
    graph.handle((_req, res, i) => (i === 0 ? json(res, 503, graphError('serviceNotAvailable', 'try later')) : json(res, 200, ADELE)));
    const result = await client().get('/me', { timeoutMs: 5000 }, );
    assert.equal(result.ok, true);
    assert.equal(result.attempts, 2);
    assert.equal(sleeper.delays.length, 1);
    assert.ok(sleeper.delays[0]!.ms >= 1000);
  });

  it('gives up on repeated 500s after the bounded number of attempts, backing off exponentially', async () => {
    graph.handle((_req, res) => json(res, 500, graphError('generalException', 'Something\nwent wrong.'), { 'request-id': 'rid-500' }));
    const result = failed(await client({ maxAttempts: 3 }).get('/me', { timeoutMs: 5000 }));
    assert.equal(graph.requests.length, 3);
    assert.equal(result.kind, 'server');
    assert.equal(result.status, 500);
    assert.equal(result.code, 'generalException');
    assert.equal(result.requestId, 'rid-500');
    assert.equal(result.attempts, 3);
    assert.deepEqual(sleeper.delays.map((d) => d.ms), [1000, 2000]);
    assert.ok(!result.message.includes('\n'));
    assert.match(result.message, /gave up after 3 attempts/);
  });

  it('gives up at once when Retry-After asks for more than the cap, and says when to come back', async () => {
    graph.handle((_req, res) => json(res, 429, graphError('TooManyRequests', 'slow'), { 'retry-after': '600' }));
    const result = failed(await client({ maxRetryAfterMs: 60_000 }).get('/me', { timeoutMs: 5000 }));
    assert.equal(result.kind, 'throttled');
    assert.equal(result.retryAfterMs, 600_000);
    assert.equal(graph.requests.length, 1);
    assert.deepEqual(sleeper.delays, []);
  });

  it('after a 401, refreshes the token exactly once and retries with the new one', async () => {
    graph.handle((req, res) =>
      req.headers.authorization?.endsWith('-1')
        ? json(res, 401, graphError('InvalidAuthenticationToken', 'Access token has expired or is not yet valid.'))
        : json(res, 200, ADELE));
    const result = await client().get('/me', { timeoutMs: 5000 });
    assert.equal(result.ok, true);
    assert.deepEqual(tokens.calls, [{ forceRefresh: false }, { forceRefresh: true }]);
    assert.equal(graph.requests[1]?.headers.authorization, 'Bearer eyJ0eXAi.secret-access-token-2');
    assert.deepEqual(sleeper.delays, []);
  });

  it('reports unauthorized when the refreshed token is refused too, without refreshing again', async () => {
    graph.handle((_req, res) => json(res, 401, graphError('InvalidAuthenticationToken', 'Access token validation failure.')));
    const result = failed(await client().get('/me', { timeoutMs: 5000 }));
    assert.equal(result.kind, 'unauthorized');
    assert.equal(graph.requests.length, 2);
    assert.equal(tokens.calls.filter((c) => c.forceRefresh).length, 1);
    assert.match(result.message, /clock|sign in/);
  });

  it('names the missing permission on a 403, and reads the request id from innererror', async () => {
    graph.handle((_req, res) =>
      json(res, 403, graphError('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', 'rid-403', 'innererror')));
    const result = failed(await client().get('/me/manager', { timeoutMs: 5000 }));
    assert.equal(result.kind, 'forbidden');
    assert.equal(result.code, 'Authorization_RequestDenied');
    assert.equal(result.requestId, 'rid-403');
    assert.match(result.message, /User\.Read\.All/);
    assert.match(result.message, /Insufficient privileges/);
    assert.equal(graph.requests.length, 1);
  });

  it('explains a Conditional Access 403 (insufficient_claims)', async () => {
    graph.handle((_req, res) => json(res, 403, graphError('insufficient_claims', 'Claims challenge.')));
    const result = failed(await client().get('/me', { timeoutMs: 5000 }));
    assert.equal(result.kind, 'forbidden');
    assert.match(result.message, /Conditional Access/);
  });

  it('reports a 404 as not-found without retrying', async () => {
    graph.handle((_req, res) => json(res, 404, graphError('Request_ResourceNotFound', "Resource 'manager' does not exist.")));
    const result = failed(await client().get('/me/manager', { timeoutMs: 5000 }));
    assert.equal(result.kind, 'not-found');
    assert.equal(result.code, 'Request_ResourceNotFound');
    assert.equal(result.attempts, 1);
    assert.deepEqual(sleeper.delays, []);
  });

  it('reports a 400 as bad-request with Graph\'s message', async () => {
    graph.handle((_req, res) => json(res, 400, graphError('BadRequest', "Invalid $select properties.")));
    const result = failed(await client().get('/me?$select=nope', { timeoutMs: 5000 }));
    assert.equal(result.kind, 'bad-request');
    assert.match(result.message, /Invalid \$select/);
    assert.equal(graph.requests[0]?.path, '/me?$select=nope');
  });

  it('reports an HTML page (a captive portal) as not-json instead of data', async () => {
    graph.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body>Please accept the terms of the guest Wi-Fi</body></html>');
    });
    const result = failed(await client().get('/me', { timeoutMs: 5000 }));
    assert.equal(result.kind, 'not-json');
    assert.equal(result.status, 200);
    assert.match(result.message, /text\/html, not JSON: a proxy or captive portal\?/);
  });

  it('reports a hung server as a network failure after the bounded attempts', async () => {
    graph.handle(() => {
      /* never answers */
    });
    const result = failed(await client({ maxAttempts: 2 }).get('/me', { timeoutMs: 150 }));
    assert.equal(result.kind, 'network');
    assert.equal(result.attempts, 2);
    assert.equal(graph.requests.length, 2);
    assert.equal(sleeper.delays.length, 1);
    assert.match(result.message, /no response/);
    assert.equal(result.status, undefined);
  });

  it('does not retry a TLS trust failure and points to the CA setting', async () => {
    const untrusting = new HttpsClient();
    try {
      graph.handle((_req, res) => json(res, 200, ADELE));
      const result = failed(await client({}, { http: untrusting }).get('/me', { timeoutMs: 5000 }));
      assert.equal(result.kind, 'network');
      assert.equal(result.attempts, 1);
      assert.match(result.message, /caFile/);
      assert.equal(graph.requests.length, 0);
    } finally {
      untrusting.close();
    }
  });

  it('lets the token provider\'s error through untouched, without calling Graph', async () => {
    const needsSignIn = new Error('needs sign-in');
    const refusing: TokenProvider = { getAccessToken: async () => Promise.reject(needsSignIn) };
    await assert.rejects(client({}, { tokens: refusing }).get('/me', { timeoutMs: 5000 }), (err) => err === needsSignIn);
    assert.equal(graph.requests.length, 0);
  });

  it('rejects with the abort reason when cancelled mid-request', async () => {
    graph.handle(() => {
      /* never answers; the abort ends it */
    });
    const controller = new AbortController();
    const reason = new Error('signed out');
    const pending = client().get('/me', { timeoutMs: 5000, signal: controller.signal });
    while (graph.requests.length === 0) await new Promise((r) => setImmediate(r));
    controller.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    assert.equal(graph.requests.length, 1);
  });

  it('refuses a path that would leave the Graph base URL', async () => {
    await assert.rejects(client().get('https://evil.example/me', { timeoutMs: 5000 }), TypeError);
    await assert.rejects(client().get('//evil.example/me', { timeoutMs: 5000 }), TypeError);
    assert.equal(tokens.calls.length, 0);
  });
});
