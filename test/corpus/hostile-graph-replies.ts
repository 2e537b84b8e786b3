import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness, type RunningAgent } from '../support/agent-harness.js';
import type { Fault } from '../support/identity-emulator/index.js';
import type { LogLine } from '../support/log-capture.js';
import { LAST_GRAPH_FILE } from '../../src/graph/last-run.js';

/**
 * The hostile Graph replies (issue 13): what a broken proxy, a compromised network or a buggy
 * server could answer to a Graph call instead of Graph's JSON. Each case is a fault in the
 * identity emulator's Graph stand-in, served over HTTPS to the real agent (the HTTPS client, the
 * Graph client, the jobs, the screen's state) on its first run after sign-in. Each must leave the
 * agent running and signed in, its screen lines short and printable, the run reported in one
 * clear `graph.job` line (no raw control or bidi character in any log line, none longer than a
 * journald entry), the access token never sent to another host, and the next run working.
 *
 * hostile-graph-replies.test.ts (npm test) runs the cases that take no real waiting;
 * hostile-graph-replies.long.test.ts (npm run test:long) runs them all.
 */

/** A second host the hostile replies point at (a redirect, a nextLink): it must see no connection. */
export interface OtherHost {
  origin: string;
  connections: number;
}

export interface GraphReplyCase {
  /** What Graph (or what answers for it) sends. */
  name: string;
  faults: (other: OtherHost) => Fault[];
  /** The job's screen line template; `{displayName}` by default. */
  line?: string;
  /** How the run ends. */
  ok: boolean;
  /** The failure kind of a run that fails. */
  kind?: string;
  /** What the job's log line says. */
  said?: RegExp;
  /** The screen line (or a 403's notice) after the run. */
  screen?: RegExp;
  /** Graph answered with a Retry-After: one `graph.throttled` line, its wait at most this. */
  throttledAtMostMs?: number;
  /** Waits real seconds (back-off): only in the long run. */
  slow?: boolean;
}

const ME = '/v1.0/me';
const onMe: Fault['match'] = (r) => r.path === ME;
const graph = (fault: Omit<Fault, 'endpoint' | 'match'>): Fault => ({ endpoint: 'graph', match: onMe, ...fault });
const user = (fields: Record<string, unknown>): Record<string, unknown> => ({ id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', displayName: 'Adele Vance', jobTitle: 'Retail Manager', ...fields });
const graphError = (code: string, message: string): Record<string, unknown> => ({ error: { code, message, innerError: { 'request-id': 'r-1', date: '2026-11-28T10:00:00' } } });
const FAKE_JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const HOUR_MS = 60 * 60 * 1000;

export const GRAPH_REPLY_CASES: GraphReplyCase[] = [
  // Redirects: the HTTPS client follows none, so the bearer token stays with graph.baseUrl's host.
  ...[301, 302, 307, 308].map((status): GraphReplyCase => ({
    name: `a ${status} redirect to another host`,
    faults: (other) => [graph({ status, headers: { Location: `${other.origin}/v1.0/me` }, body: '' })],
    ok: false, kind: 'bad-request',
    said: new RegExp(`redirect \\(HTTP ${status}\\) to 127\\.0\\.0\\.1:\\d+.*not followed`),
  })),
  {
    name: 'a 200 with an @odata.nextLink to another host',
    faults: (other) => [graph({ status: 200, body: { ...user({}), '@odata.nextLink': `${other.origin}/v1.0/me?$skiptoken=x` } })],
    ok: true, screen: /^Adele Vance$/,
  },
  // JSON that is not a Graph object
  ...([['a JSON array', [user({})], 'an array'], ['JSON null', null, 'null'], ['a JSON string', 'Adele Vance', 'a string'], ['a JSON number', 42, 'a number']] as const)
    .map(([what, body, said]): GraphReplyCase => ({
      name: `a 200 whose JSON is ${what}`,
      faults: () => [graph({ status: 200, contentType: 'application/json', body: JSON.stringify(body) })],
      ok: false, kind: 'not-json', said: new RegExp(`HTTP 200 with JSON that is ${said}, not an object`),
    })),
  {
    name: 'a 200 whose JSON is nested 10,000 deep',
    faults: () => [graph({ status: 200, contentType: 'application/json', body: `{"displayName":"Deep","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}` })],
    ok: false, kind: 'not-json', said: /JSON nested deeper than 64 levels/,
  },
  {
    name: 'a 200 whose JSON is nested 1,000,000 deep (2 MB, under the size limit)',
    faults: () => [graph({ status: 200, contentType: 'application/json', body: `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}` })],
    ok: false, kind: 'not-json', said: /JSON nested deeper than 64 levels/,
  },
  // Text meant for the screen that is not text for a screen
  {
    name: 'a displayName with ANSI escape sequences',
    faults: () => [graph({ status: 200, body: user({ displayName: '\u001b[2J\u001b[31mAdele\u001b[0m Vance\u001b]0;pwned\u0007' }) })],
    ok: true, screen: /^\[2J \[31mAdele \[0m Vance \]0;pwned$/,
  },
  {
    name: 'a displayName with C0 and C1 control characters (NUL, CR, LF, DEL, CSI)',
    faults: () => [graph({ status: 200, body: user({ displayName: 'Adele\u0000\r\nVance\u007f\u009b31m\u0085!' }) })],
    ok: true, screen: /^Adele Vance 31m !$/,
  },
  {
    name: 'a displayName of 100 KB',
    faults: () => [graph({ status: 200, body: user({ displayName: 'A'.repeat(100 * 1024) }) })],
    ok: true, screen: /^A{199}…$/,
  },
  {
    name: 'a jobTitle with right-to-left override characters',
    line: '{jobTitle}',
    faults: () => [graph({ status: 200, body: user({ jobTitle: 'Retail \u202eregan\u202cam\u2066\u2069\u200f' }) })],
    ok: true, screen: /^Retail reganam$/,
  },
  {
    name: 'a displayName with bytes that are not UTF-8',
    faults: () => [graph({
      status: 200, contentType: 'application/json',
      body: Buffer.concat([Buffer.from('{"displayName":"Ad'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('le"}')]),
    })],
    ok: true, screen: /^Ad\uFFFD+\(\uFFFD+le$/,
  },
  {
    name: '__proto__ and constructor keys',
    line: '{displayName}|{constructor.name}',
    faults: () => [graph({ status: 200, contentType: 'application/json', body: '{"__proto__":{"displayName":"Polluted","isAdmin":true},"constructor":{"name":"Evil","prototype":{"x":1}},"displayName":"Adele Vance"}' })],
    ok: true, screen: /^Adele Vance\|Evil$/,
  },
  // Throttling with a Retry-After that is not a sane wait
  {
    name: 'a 429 with Retry-After: 1e12 seconds',
    faults: () => [graph({ status: 429, headers: { 'Retry-After': '1000000000000' } })],
    ok: false, kind: 'throttled', said: /asked to wait 86400 s.*Graph requests wait 3600 s/, throttledAtMostMs: HOUR_MS,
  },
  {
    name: 'a 429 with a Retry-After date in the year 9999',
    faults: () => [graph({ status: 429, headers: { 'Retry-After': 'Fri, 31 Dec 9999 23:59:59 GMT' } })],
    ok: false, kind: 'throttled', said: /asked to wait 86400 s/, throttledAtMostMs: HOUR_MS,
  },
  {
    name: 'a 429 with a negative Retry-After, then Graph again',
    faults: () => [graph({ status: 429, headers: { 'Retry-After': '-30' } })],
    ok: true, screen: /^Adele Vance$/, slow: true,
  },
  {
    name: 'a 503 with a Retry-After of garbage, then Graph again',
    faults: () => [graph({ status: 503, headers: { 'Retry-After': 'soon\u00ff; rm -rf /' } })],
    ok: true, screen: /^Adele Vance$/, slow: true,
  },
  {
    name: 'a 429 without Retry-After, four times',
    faults: () => [graph({ status: 429, count: 4 })],
    ok: false, kind: 'throttled', said: /throttling requests for \/me \(TooManyRequests\), gave up after 4 attempts/, slow: true,
  },
  // Authentication challenges and encodings the agent did not ask for
  {
    name: 'a 401 with a WWW-Authenticate claims challenge, twice',
    faults: () => [graph({
      status: 401, count: 2,
      headers: { 'WWW-Authenticate': 'Bearer realm="", authorization_uri="https://evil.example/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZX19fQ=="' },
    })],
    ok: false, kind: 'unauthorized', said: /rejected the access token for \/me even after a refresh/,
  },
  {
    name: 'a gzip-encoded body the agent did not ask for',
    faults: () => [graph({ status: 200, contentType: 'application/json', headers: { 'Content-Encoding': 'gzip' }, body: gzipSync(JSON.stringify(user({}))) })],
    ok: false, kind: 'not-json', said: /Content-Encoding "gzip", which the agent does not ask for/,
  },
  {
    name: 'Content-Encoding: gzip on bytes that are not gzip',
    faults: () => [graph({ status: 200, contentType: 'application/json', headers: { 'Content-Encoding': 'gzip' }, body: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]) })],
    ok: false, kind: 'not-json', said: /Content-Encoding "gzip"/,
  },
  // Error text that is hostile in itself
  {
    name: 'a 403 whose message holds a JWT and a bearer token',
    faults: () => [graph({ status: 403, body: graphError('Authorization_RequestDenied', `Denied for Bearer ${FAKE_JWT} (token ${FAKE_JWT})`) })],
    ok: false, kind: 'forbidden', said: /Denied for Bearer \[redacted\] \(token \[redacted\]\)/, screen: /^Needs User\.Read/,
  },
  {
    name: 'a 403 whose message holds ANSI escapes, newlines and a right-to-left override',
    faults: () => [graph({ status: 403, body: graphError('Authorization_RequestDenied', 'Insufficient\u001b[2J privileges\r\n\u202eto complete\u0007') })],
    ok: false, kind: 'forbidden', said: /Insufficient \[2J privileges to complete;/, screen: /^Needs User\.Read/,
  },
  {
    name: 'a 400 whose error code is 100 KB',
    faults: () => [graph({ status: 400, body: graphError('X'.repeat(100 * 1024), 'Bad request') })],
    ok: false, kind: 'bad-request', said: /Graph refused \/me \(HTTP 400, X{99}…\): Bad request$/,
  },
];

async function otherHost(t: TestContext): Promise<OtherHost> {
  const other: OtherHost = { origin: '', connections: 0 };
  const server: Server = createServer((socket) => {
    other.connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  other.origin = `https://127.0.0.1:${address.port}`;
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return other;
}

async function until(what: string, check: () => boolean, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await sleep(10);
  }
}

async function untilAsync(what: string, check: () => Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await sleep(10);
  }
}

/** No C0/C1 control character and no bidirectional formatting character. */
const UNPRINTABLE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
/** journald splits a line longer than its LineMax (48 KiB by default) into several entries. */
const MAX_LOG_LINE = 16 * 1024;

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** Defines one test for each case `include` picks. */
export function defineGraphReplyTests(include: (c: GraphReplyCase) => boolean): void {
  for (const c of GRAPH_REPLY_CASES.filter(include)) {
    test(`Graph answers ${c.name}: ${c.ok ? 'shown as printable text' : `a "${c.kind}" failure`} in one clear line, the agent runs on`, async (t) => {
      const h: Harness = await startHarness({ config: { network: { timeoutSec: 2 } } });
      t.after(() => h.close());
      h.config.graph.jobs = [{ name: 'me', schedule: '0 0 1 1 *', path: '/me', line: c.line ?? '{displayName}', timeoutSec: 2, outputFile: path.join(h.dir, 'me.json') }];
      const other = await otherHost(t);
      h.idp.faults.push(...c.faults(other));

      const rejections: unknown[] = [];
      const onRejection = (reason: unknown): void => void rejections.push(reason);
      process.on('unhandledRejection', onRejection);
      t.after(() => void process.off('unhandledRejection', onRejection));

      const agent: RunningAgent = await h.startAgent();
      h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
      await agent.waitFor('signed-in');
      const runs = (): LogLine[] => h.logs.lines().filter((l) => l.event === 'graph.job' && l.job === 'me');
      await until('the first run of the job', () => runs().length >= 1);
      assert.equal(h.idp.faults.length, 0, 'the hostile reply was served');
      // The result reaches the screen and last-graph.json after its log line.
      const lastGraph = path.join(h.dir, LAST_GRAPH_FILE);
      await untilAsync('the run is in last-graph.json', async () => (await readFile(lastGraph, 'utf8').catch(() => '')).includes('"me"'));

      // One clear line for the run, saying what came back.
      const [run] = runs();
      assert.equal(runs().length, 1, 'one graph.job line');
      assert.equal(run!.ok, c.ok, `the run's outcome: ${String(run!.msg)}`);
      if (c.kind) assert.equal(run!.kind, c.kind, `the failure's kind: ${String(run!.msg)}`);
      if (c.said) assert.match(String(run!.msg), c.said);
      for (const raw of h.logs.raw) {
        const line = JSON.parse(raw) as LogLine;
        // Graph's body at debug is data, kept as sent (JSON-escaped, cut at 4 KB): not a message.
        if (line.event === 'graph.response') continue;
        assert.doesNotMatch(raw, UNPRINTABLE, `no raw control or bidi character in a log line: ${raw.slice(0, 300)}`);
        assert.ok(raw.length <= MAX_LOG_LINE, `a log line of ${raw.length} characters (${String(line.event)})`);
        assert.doesNotMatch(String(line.msg ?? ''), UNPRINTABLE, `the message is printable: ${String(line.msg).slice(0, 300)}`);
      }
      assert.ok(!h.logs.lines().some((l) => l.event === 'error' || l.event === 'token.needs_sign_in'), 'no error line, no new sign-in');

      // The screen: still signed in, every line short and printable.
      const state = agent.app.agent.state;
      assert.equal(state.name, 'signed-in', 'the agent is still signed in');
      const lines = state.name === 'signed-in' ? state.lines.map((l) => l.line) : [];
      for (const line of lines) {
        assert.doesNotMatch(line, UNPRINTABLE, `a screen line is printable: ${JSON.stringify(line.slice(0, 100))}`);
        assert.ok(line.length <= 400, `a screen line of ${line.length} characters`);
      }
      if (c.screen) assert.match(lines.join('\n'), c.screen, 'the screen line');
      assert.ok(agent.display.frames.length > 0, 'frames were drawn');

      // What `status` prints (last-graph.json) is printable too.
      const recorded = await readFile(lastGraph, 'utf8');
      for (const s of strings(JSON.parse(recorded))) assert.doesNotMatch(s, UNPRINTABLE, `last-graph.json: ${JSON.stringify(s.slice(0, 100))}`);

      // The token went nowhere else.
      assert.equal(other.connections, 0, 'the other host saw no connection (no redirect or link was followed)');
      assert.ok(!h.idp.requests.some((r) => r.endpoint === 'graph' && r.path !== ME), 'no other Graph path was called');
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).filter((k) => k === 'isAdmin' || k === 'x'), [], 'Object.prototype untouched');
      assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined);

      if (c.throttledAtMostMs !== undefined) {
        const throttled = h.logs.lines().filter((l) => l.event === 'graph.throttled');
        assert.equal(throttled.length, 1, 'one graph.throttled line');
        assert.ok(Number(throttled[0]!.duration_ms) <= c.throttledAtMostMs, `a bounded wait: ${String(throttled[0]!.duration_ms)} ms`);
        // Graph is held, but the agent is not: it stops at once.
        const started = Date.now();
        await agent.stop();
        assert.ok(Date.now() - started < 2_000, `stopped in ${Date.now() - started} ms while Graph is held`);
      } else {
        // The next run (a press) is Graph's normal answer.
        const mark = runs().length;
        agent.button.press();
        await until('the next run of the job', () => runs().length > mark);
        assert.equal(runs()[mark]!.ok, true, `the next run works: ${String(runs()[mark]!.msg)}`);
      }
      assert.deepEqual(rejections.map(String), [], 'no unhandled promise rejection');
    });
  }
}
