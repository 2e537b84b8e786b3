import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { PollingGuard } from '../../src/auth/polling-guard.js';
import { TransportError } from '../../src/net/https.js';

/** A network module that answers from a script and records what it was asked. */
class ScriptedNetwork implements INetworkModule {
  readonly posts: Array<{ url: string; body: string }> = [];
  constructor(private readonly answer: (url: string, body: string) => NetworkResponse<unknown> | Error) {}
  async sendGetRequestAsync<T>(url: string): Promise<NetworkResponse<T>> {
    return this.answer(url, '') as NetworkResponse<T>;
  }
  async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const body = options?.body ?? '';
    this.posts.push({ url, body });
    const a = this.answer(url, body);
    if (a instanceof Error) throw a;
    return a as NetworkResponse<T>;
  }
}

/** What msal-node's client throws for a transport failure: an AuthError with ours as the cause. */
function transportFailure(failure: 'dns' | 'connection' | 'timeout', code: string): Error {
  const err = new AuthError('network_error', '', `Network request failed (${code})`);
  err.cause = new TransportError(failure, 'https://login.example/t/oauth2/v2.0/token', code, `${code} on the way`);
  return err;
}

const POLL = 'grant_type=device_code&client_id=c&device_code=DC1';
const sleeps: number[] = [];
const guardOver = (inner: INetworkModule): PollingGuard =>
  new PollingGuard(inner, { minIntervalSec: 1, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, maxOfflineBackoffMs: 8_000 });

for (const [name, failure, code] of [
  ['a DNS failure', 'dns', 'EAI_AGAIN'],
  ['an unreachable network', 'connection', 'ENETUNREACH'],
  ['a timeout', 'timeout', 'ETIMEDOUT'],
] as const) {
  test(`${name} while polling becomes "pending" after a back-off, and the watcher hears offline then online`, async () => {
    sleeps.length = 0;
    let failing = true;
    const inner = new ScriptedNetwork(() => (failing ? transportFailure(failure, code) : { status: 400, headers: {}, body: { error: 'authorization_pending' } }));
    const guard = guardOver(inner);
    const heard: boolean[] = [];
    guard.watch('DC1', { offline: (o) => heard.push(o) });
    for (let i = 0; i < 5; i++) {
      const r = await guard.sendPostRequestAsync<{ error: string }>('https://login.example/t/oauth2/v2.0/token', { body: POLL });
      assert.equal(r.body.error, 'authorization_pending');
    }
    assert.deepEqual(sleeps, [750, 1500, 3000, 6000, 6000], 'doubling back-off (capped at 8 s) with jitter');
    failing = false;
    await guard.sendPostRequestAsync('https://login.example/t/oauth2/v2.0/token', { body: POLL });
    assert.deepEqual(heard, [true, false]);
  });
}

test('a TLS trust failure is not "offline": it ends the attempt (retrying cannot fix a certificate)', async () => {
  const err = new AuthError('network_error', '', 'untrusted');
  err.cause = new TransportError('tls', 'https://x', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'set network.caFile');
  const guard = guardOver(new ScriptedNetwork(() => err));
  guard.watch('DC1', { offline: () => undefined });
  await assert.rejects(guard.sendPostRequestAsync('https://login.example/t/oauth2/v2.0/token', { body: POLL }), /untrusted/);
});

test('requests for codes nobody watches pass through untouched (a refresh, another code)', async () => {
  const inner = new ScriptedNetwork(() => transportFailure('dns', 'ENOTFOUND'));
  const guard = guardOver(inner);
  await assert.rejects(guard.sendPostRequestAsync('https://login.example/t/oauth2/v2.0/token', { body: 'grant_type=refresh_token&refresh_token=x' }));
});

test('slow_down adds 5 s before every later poll of that code', async () => {
  sleeps.length = 0;
  const replies = [{ error: 'slow_down' }, { error: 'authorization_pending' }, { error: 'slow_down' }, { error: 'authorization_pending' }];
  const inner = new ScriptedNetwork(() => ({ status: 400, headers: {}, body: replies.shift() }));
  const guard = guardOver(inner);
  guard.watch('DC1', { offline: () => undefined });
  for (let i = 0; i < 4; i++) {
    const r = await guard.sendPostRequestAsync<{ error: string }>('https://login.example/t/oauth2/v2.0/token', { body: POLL });
    assert.equal(r.body.error, 'authorization_pending', 'msal-node never sees slow_down (it would throw)');
  }
  assert.deepEqual(sleeps, [5_000, 5_000, 10_000], 'one step after each slow_down');
});

test('polls use the RFC 8628 grant type URN, with a matching content-length', async () => {
  const inner = new ScriptedNetwork(() => ({ status: 400, headers: {}, body: { error: 'authorization_pending' } }));
  const guard = guardOver(inner);
  await guard.sendPostRequestAsync('https://login.example/t/oauth2/v2.0/token', { body: POLL, headers: { 'Content-Length': String(POLL.length) } });
  const sent = new URLSearchParams(inner.posts[0]!.body);
  assert.equal(sent.get('grant_type'), 'urn:ietf:params:oauth:grant-type:device_code');
  assert.equal(sent.get('device_code'), 'DC1');
});

test('the device code request goes to the discovered device_authorization_endpoint', async () => {
  const inner = new ScriptedNetwork((url) => url.includes('openid-configuration')
    ? { status: 200, headers: {}, body: { token_endpoint: 'https://idp.example/oauth/token', device_authorization_endpoint: 'https://idp.example/oauth/device' } }
    : { status: 200, headers: {}, body: { device_code: 'D', user_code: 'ABCD-EFGH', verification_url: 'https://idp.example/activate', expires_in: 600 } });
  const guard = guardOver(inner);
  await guard.sendGetRequestAsync('https://idp.example/.well-known/openid-configuration');
  const r = await guard.sendPostRequestAsync<Record<string, unknown>>('https://idp.example/oauth/devicecode?client-request-id=1', { body: 'client_id=c&scope=openid' });
  assert.equal(inner.posts[0]!.url, 'https://idp.example/oauth/device?client-request-id=1');
  assert.equal(r.body.verification_uri, 'https://idp.example/activate', 'verification_url is accepted');
  assert.equal(r.body.interval, 5, 'no interval: RFC 8628\'s 5 s, not msal-node\'s busy loop');
});

test('an interval under the floor is raised to it', async () => {
  const guard = guardOver(new ScriptedNetwork(() => ({ status: 200, headers: {}, body: { device_code: 'D', user_code: 'ABCDEFGHJ', verification_uri: 'https://x/d', expires_in: 900, interval: 0 } })));
  const r = await guard.sendPostRequestAsync<Record<string, unknown>>('https://login.example/t/oauth2/v2.0/devicecode', { body: 'client_id=c' });
  assert.equal(r.body.interval, 1);
});
