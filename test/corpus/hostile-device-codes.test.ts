import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { PollingGuard, MAX_POLL_INTERVAL_SEC, MAX_CODE_LIFETIME_SEC } from '../../src/auth/polling-guard.js';
import { checkDeviceCodeResponse } from '../../src/auth/msal-identity.js';
import { startHarness } from '../support/agent-harness.js';

/**
 * Hostile or absurd device code replies (issue "Mistakes and hostile input", points 1-3). Each goes
 * through the polling guard (what msal-node's network client returns) and the check the identity
 * applies before a code reaches the screen and the QR code, as msal-node would hand it over.
 * Then a few of them end to end, through the real msal-node and the identity emulator.
 */

const GOOD = { device_code: 'DC', user_code: 'Q6GR3KMGL', verification_uri: 'https://microsoft.com/devicelogin', expires_in: 900, interval: 5 };

class OneReply implements INetworkModule {
  constructor(private readonly body: Record<string, unknown>) {}
  async sendGetRequestAsync<T>(): Promise<NetworkResponse<T>> {
    return { status: 404, headers: {}, body: {} as T };
  }
  async sendPostRequestAsync<T>(_url: string, _options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return { status: 200, headers: {}, body: { ...this.body } as T };
  }
}

/** The reply as the agent sees it: through the guard, then msal-node's field names, then the check. */
async function judge(reply: Record<string, unknown>): Promise<{ problem: string | undefined; interval: unknown; expiresIn: unknown }> {
  const guard = new PollingGuard(new OneReply(reply), { minIntervalSec: 1 });
  const r = await guard.sendPostRequestAsync<Record<string, unknown>>('https://login.example/t/oauth2/v2.0/devicecode', { body: 'client_id=c' });
  const b = r.body;
  const response = { userCode: b.user_code, deviceCode: b.device_code, verificationUri: b.verification_uri, expiresIn: b.expires_in, interval: b.interval, message: '' };
  const problem = guard.deviceCodeProblem ?? checkDeviceCodeResponse(response as Parameters<typeof checkDeviceCodeResponse>[0]);
  return { problem, interval: b.interval, expiresIn: b.expires_in };
}

const REFUSED: Array<[string, Record<string, unknown>, RegExp]> = [
  ['an http: address', { verification_uri: 'http://microsoft.com/devicelogin' }, /not an https address/],
  ['user-info disguising the host', { verification_uri: 'https://microsoft.com@evil.example/' }, /user name before the host.*evil\.example/],
  ['user and password before the host', { verification_uri: 'https://login:pw@evil.example/' }, /user name before the host/],
  ['a javascript: address', { verification_uri: 'javascript:alert(1)' }, /not an https address/],
  ['a data: address', { verification_uri: 'data:text/html,<h1>hi' }, /spaces, control|not an https/],
  ['a file: address', { verification_uri: 'file:///etc/passwd' }, /not an https address/],
  ['an address of 5,000 characters', { verification_uri: `https://microsoft.com/${'a'.repeat(5000)}` }, /longer than 200/],
  ['an address with a newline', { verification_uri: 'https://microsoft.com/\ndevicelogin' }, /control or non-ASCII/],
  ['an address with an ESC sequence', { verification_uri: 'https://microsoft.com/\u001b[2Jdevicelogin' }, /control or non-ASCII/],
  ['an address with a space', { verification_uri: 'https://microsoft.com/device login' }, /spaces/],
  ['an address in Cyrillic look-alikes', { verification_uri: 'https://micrоsoft.com/devicelogin' }, /non-ASCII/],
  ['an address that is not a URL', { verification_uri: 'devicelogin' }, /not a URL/],
  ['no address', { verification_uri: undefined }, /missing/],
  ['an address that is a number', { verification_uri: 42 }, /missing/],
  ['a user code of 200 characters', { user_code: 'A'.repeat(200) }, /user_code/],
  ['a user code with an ESC sequence', { user_code: 'AB\u001b[31mCD' }, /user_code/],
  ['a user code with HTML', { user_code: '<b>ABCD</b>' }, /user_code/],
  ['an empty user code', { user_code: '' }, /user_code/],
  ['a user code that is an object', { user_code: { a: 1 } }, /user_code/],
  ['expires_in of zero', { expires_in: 0 }, /expires_in/],
  ['a negative expires_in', { expires_in: -5 }, /expires_in/],
  ['expires_in as text', { expires_in: 'soon' }, /expires_in/],
  ['an interval longer than the code lives', { interval: 1000, expires_in: 900 }, /interval 1000 s is longer than the code's lifetime/],
  ['an interval of 2,147,484 s (past Node\'s timer limit) on a 15-minute code', { interval: 2_147_484 }, /longer than the code's lifetime/],
];

for (const [what, change, expected] of REFUSED) {
  test(`refused: ${what}`, async () => {
    const { problem } = await judge({ ...GOOD, ...change });
    assert.match(String(problem), expected);
  });
}

const CLAMPED: Array<[string, Record<string, unknown>, { interval?: number; expiresIn?: number }]> = [
  ['an interval of 2,147,484 s on a day-long code: polled every minute, not every millisecond', { interval: 2_147_484, expires_in: 86_400 * 30 }, { interval: MAX_POLL_INTERVAL_SEC, expiresIn: MAX_CODE_LIFETIME_SEC }],
  ['an interval of 1e300', { interval: 1e300, expires_in: 1e301 }, { interval: MAX_POLL_INTERVAL_SEC }],
  ['an interval of 0', { interval: 0 }, { interval: 1 }],
  ['a negative interval', { interval: -3 }, { interval: 1 }],
  ['an interval as text', { interval: '5' }, { interval: 5 }],
  ['no interval', { interval: undefined }, { interval: 5 }],
  ['expires_in of 1e13 (a Date out of range)', { expires_in: 1e13 }, { expiresIn: MAX_CODE_LIFETIME_SEC }],
];

for (const [what, change, expected] of CLAMPED) {
  test(`clamped, and shown: ${what}`, async () => {
    const { problem, interval, expiresIn } = await judge({ ...GOOD, ...change });
    assert.equal(problem, undefined);
    if (expected.interval !== undefined) assert.equal(interval, expected.interval);
    if (expected.expiresIn !== undefined) assert.equal(expiresIn, expected.expiresIn);
  });
}

test('end to end: a code with a 2,147,484 s interval is polled calmly, not 1,000 times a second', async (t) => {
  const h = await startHarness({ emulator: { deviceCodeLifetimeSec: 600 }, config: { signIn: { minPollIntervalSec: 0.05, autoRenewCodes: 0 } } });
  t.after(() => h.close());
  h.idp.faults.push({ endpoint: 'devicecode', status: 200, body: { ...GOOD, device_code: 'hostile-1', interval: 2_147_484, expires_in: 86_400 * 40 } });
  const agent = await h.startAgent();
  const shown = await agent.waitFor('showing-code');
  assert.equal(shown.name === 'showing-code' && shown.code.userCode, 'Q6GR3KMGL');
  assert.ok(shown.name === 'showing-code' && shown.code.expiresAt - shown.code.issuedAt <= MAX_CODE_LIFETIME_SEC * 1000, 'the lifetime is capped at a day');
  await new Promise((r) => setTimeout(r, 1_000));
  const polls = h.idp.requests.filter((r) => r.path.endsWith('/token')).length;
  assert.ok(polls <= 2, `${polls} token requests in a second`);
});

test('end to end: an address with user-info is never shown; the screen says the code was unusable and the log names the field', async (t) => {
  const h = await startHarness({ config: { signIn: { minPollIntervalSec: 0.05, autoRenewCodes: 0 } } });
  t.after(() => h.close());
  h.idp.faults.push({ endpoint: 'devicecode', status: 200, body: { ...GOOD, verification_uri: 'https://microsoft.com@evil.example/' } });
  const agent = await h.startAgent();
  const state = await agent.waitFor('needs-press');
  assert.equal(state.name === 'needs-press' && state.problem.title, 'Sign-in failed');
  const line = h.logs.lines().find((l) => l.event === 'signin.failed');
  assert.match(String(line?.reason), /verification_uri .*user name before the host/);
  assert.ok(!h.logs.raw.some((l) => l.includes('evil.example') && l.includes('device_code.issued')), 'never offered as a place to sign in');
});
