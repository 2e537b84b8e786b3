import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { PollingGuard, MAX_CODE_LIFETIME_SEC } from '../../src/auth/polling-guard.js';
import { checkDeviceCodeResponse } from '../../src/auth/msal-identity.js';
import { startHarness } from '../support/agent-harness.js';
import { CLAMPED, REFUSED } from './hostile-device-codes.js';

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

for (const [what, change, expected] of REFUSED) {
  test(`refused: ${what}`, async () => {
    const { problem } = await judge({ ...GOOD, ...change });
    assert.match(String(problem), expected);
  });
}

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
