import assert from 'node:assert/strict';
import { createPublicKey, randomUUID, verify, type JsonWebKey } from 'node:crypto';
import { access } from 'node:fs/promises';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import {
  InteractionRequiredAuthError,
  ProtocolMode,
  PublicClientApplication,
  type AuthenticationResult,
  type DeviceCodeRequest,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import {
  ADELE_ID,
  CONTOSO_TENANT_ID,
  MEGAN_ID,
  startIdentityEmulator,
  type IdentityEmulator,
} from './identity-emulator/index.js';

// ---------------------------------------------------------------------------------------------
// Test plumbing: the real msal-node over real HTTPS, trusting only the emulator's CA.

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function httpsRequest(caPem: string, method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // agent: false → one connection per request, nothing kept alive after a test.
    const req = https.request(url, { method, headers, ca: caPem, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** msal-node's default client uses global fetch, which would not trust the emulator's CA. */
class CaNetworkModule implements INetworkModule {
  constructor(private readonly caPem: string) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const res = await httpsRequest(this.caPem, method, url, options?.headers ?? {}, options?.body);
    // 4xx JSON must come back as a response: the pending polls are 400s.
    return { status: res.status, headers: res.headers, body: JSON.parse(res.body) as T };
  }
}

function msalApp(idp: IdentityEmulator, protocolMode?: ProtocolMode): PublicClientApplication {
  return new PublicClientApplication({
    auth: {
      clientId: randomUUID(),
      authority: idp.authority,
      // host:port (a scheme is tolerated): msal-common compares it with the authority's host and
      // port. Without it msal-node asks login.microsoftonline.com for instance discovery.
      knownAuthorities: [`127.0.0.1:${idp.port}`],
    },
    // msal-node 7 reads protocolMode from `system`, not `auth`.
    system: { networkClient: new CaNetworkModule(idp.caPem), ...(protocolMode ? { protocolMode } : {}) },
  });
}

type DeviceCodeInfo = Parameters<DeviceCodeRequest['deviceCodeCallback']>[0];

/** Starts msal's device code flow; the returned promise already has a handler attached. */
function startDeviceCode(pca: PublicClientApplication, scopes = ['User.Read', 'User.Read.All']): {
  result: Promise<AuthenticationResult | null>;
  callback: () => DeviceCodeInfo;
} {
  let info: DeviceCodeInfo | undefined;
  const result = pca.acquireTokenByDeviceCode({ scopes, deviceCodeCallback: (r) => { info = r; } });
  result.catch(() => undefined);
  return {
    result,
    callback: () => {
      assert.ok(info, 'deviceCodeCallback was called');
      return info;
    },
  };
}

async function signIn(idp: IdentityEmulator, pca: PublicClientApplication, user?: string): Promise<{ auth: AuthenticationResult; info: DeviceCodeInfo }> {
  const flow = startDeviceCode(pca);
  const code = await idp.waitForDeviceCode();
  idp.approve(code.userCode, user);
  const auth = await flow.result;
  assert.ok(auth, 'msal returned a result');
  return { auth, info: flow.callback() };
}

function serializedRefreshTokens(pca: PublicClientApplication): string[] {
  const cache = JSON.parse(pca.getTokenCache().serialize()) as { RefreshToken: Record<string, { secret: string }> };
  return Object.values(cache.RefreshToken).map((t) => t.secret);
}

function decodeJwtPart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------

describe('identity emulator through msal-node', () => {
  let idp: IdentityEmulator;

  before(async () => {
    idp = await startIdentityEmulator({ intervalSec: 0.1, deviceCodeLifetimeSec: 30, accessTokenLifetimeSec: 3600, refreshTokenLifetimeSec: 86400 });
  });
  after(async () => {
    await idp.close();
  });

  test('a device code sign-in approved by the test gives Adele tokens, and a forced refresh rotates the refresh token', async () => {
    const pca = msalApp(idp);
    const { auth, info } = await signIn(idp, pca);

    assert.match(info.userCode, /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{9}$/);
    assert.equal(info.verificationUri, idp.verificationUri);
    assert.equal(info.interval, 0.1);
    assert.equal(info.expiresIn, 30);
    assert.ok(info.message.includes(info.userCode) && info.message.includes(idp.verificationUri));

    assert.equal(auth.account?.username, 'AdeleV@contoso.example');
    assert.equal(auth.account?.homeAccountId, `${ADELE_ID}.${CONTOSO_TENANT_ID}`);
    assert.equal(auth.account?.tenantId, CONTOSO_TENANT_ID);
    assert.equal(auth.idTokenClaims && (auth.idTokenClaims as Record<string, unknown>)['name'], 'Adele Vance');
    assert.ok(auth.scopes.includes('User.Read'));

    // msal-node polls with the short grant type; every poll before the last was "pending".
    const polls = idp.requests.filter((r) => r.endpoint === 'token' && r.grantType === 'device_code');
    assert.ok(polls.length >= 1);
    assert.equal(polls.at(-1)?.status, 200);
    assert.ok(polls.slice(0, -1).every((r) => r.status === 400));
    assert.ok(polls.every((r) => r.userCode === info.userCode), 'polls are logged with their user code');
    assert.ok(idp.issuedSecrets().includes(info.deviceCode), 'the device_code is listed as a secret');
    assert.ok(idp.issuedSecrets().includes(auth.accessToken));
    assert.ok(idp.issuedSecrets().includes(auth.idToken));

    const [refreshBefore] = serializedRefreshTokens(pca);
    assert.ok(refreshBefore);
    const refreshed = await pca.acquireTokenSilent({ account: auth.account!, scopes: ['User.Read'], forceRefresh: true });
    assert.notEqual(refreshed.accessToken, auth.accessToken);
    const refreshAfter = serializedRefreshTokens(pca);
    assert.equal(refreshAfter.length, 1);
    assert.notEqual(refreshAfter[0], refreshBefore, 'the refresh token was rotated');
    assert.ok(idp.issuedSecrets().includes(refreshAfter[0]!));
    assert.equal(idp.requests.filter((r) => r.grantType === 'refresh_token').at(-1)?.status, 200);
  });

  test('the id token is an RS256 JWT that verifies against the discovery document\'s jwks_uri', async () => {
    const { auth } = await signIn(idp, msalApp(idp));
    const config = JSON.parse((await httpsRequest(idp.caPem, 'GET', `${idp.authority}/v2.0/.well-known/openid-configuration`)).body) as Record<string, string>;
    assert.equal(config['issuer'], `${idp.authority}/v2.0`);
    assert.equal(config['token_endpoint'], `${idp.authority}/oauth2/v2.0/token`);
    const jwks = JSON.parse((await httpsRequest(idp.caPem, 'GET', config['jwks_uri']!)).body) as { keys: Array<Record<string, string>> };

    const [header, payload, signature] = auth.idToken.split('.');
    const { kid, alg } = decodeJwtPart(header);
    assert.equal(alg, 'RS256');
    const jwk = jwks.keys.find((k) => k['kid'] === kid);
    assert.ok(jwk, 'the signing key is published');
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    assert.ok(verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature ?? '', 'base64url')));

    const claims = decodeJwtPart(payload);
    assert.equal(claims['oid'], ADELE_ID);
    assert.equal(claims['tid'], CONTOSO_TENANT_ID);
    assert.equal(claims['preferred_username'], 'AdeleV@contoso.example');
    assert.equal(claims['ver'], '2.0');
    assert.equal(claims['iss'], `${idp.origin}/${CONTOSO_TENANT_ID}/v2.0`);
  });

  test('in OIDC protocol mode msal-node reads /{tenant}/.well-known/openid-configuration and signs in', async () => {
    const before = idp.requests.length;
    const { auth } = await signIn(idp, msalApp(idp, ProtocolMode.OIDC));
    assert.equal(auth.account?.username, 'AdeleV@contoso.example');
    const discovery = idp.requests.slice(before).find((r) => r.endpoint === 'openid');
    assert.equal(discovery?.path, '/organizations/.well-known/openid-configuration');
  });

  test('after revokeRefreshTokens the next refresh is invalid_grant 50173 / bad_token: interaction required', async () => {
    const pca = msalApp(idp);
    const { auth } = await signIn(idp, pca);
    assert.equal(idp.revokeRefreshTokens('adelev@contoso.example') >= 1, true);
    await assert.rejects(
      pca.acquireTokenSilent({ account: auth.account!, scopes: ['User.Read'], forceRefresh: true }),
      (err: unknown) => {
        assert.ok(err instanceof InteractionRequiredAuthError, `got ${String(err)}`);
        assert.equal(err.errorCode, 'invalid_grant');
        assert.equal(err.subError, 'bad_token');
        assert.match(err.errorMessage, /AADSTS50173/);
        return true;
      },
    );
  });

  test('a denied code ends msal-node\'s polling with authorization_declined', async () => {
    const flow = startDeviceCode(msalApp(idp));
    const code = await idp.waitForDeviceCode();
    idp.deny(code.userCode);
    await assert.rejects(flow.result, (err: { errorCode?: string; errorMessage?: string }) => {
      assert.equal(err.errorCode, 'post_request_failed');
      assert.equal(err.errorMessage, 'authorization_declined');
      return true;
    });
    assert.throws(() => idp.approve(code.userCode), /already-decided/);
  });

  test('Graph /me and /me/manager answer with the signed-in user\'s data; Megan has no manager', async () => {
    const { auth } = await signIn(idp, msalApp(idp));
    const bearer = { Authorization: `Bearer ${auth.accessToken}` };
    const clientRequestId = randomUUID();

    const me = await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me`, { ...bearer, 'client-request-id': clientRequestId });
    assert.equal(me.status, 200);
    assert.equal(me.headers['client-request-id'], clientRequestId);
    assert.match(me.headers['request-id'] ?? '', GUID);
    const meBody = JSON.parse(me.body) as Record<string, unknown>;
    assert.equal(meBody['displayName'], 'Adele Vance');
    assert.equal(meBody['id'], ADELE_ID);
    assert.equal(meBody['userPrincipalName'], 'AdeleV@contoso.example');
    assert.equal('department' in meBody, false, 'only the default property set without $select');

    const selected = JSON.parse((await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me?$select=displayName,department`, bearer)).body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(selected).filter((k) => !k.startsWith('@')).sort(), ['department', 'displayName']);
    assert.equal(selected['department'], 'Retail');

    const manager = await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me/manager`, bearer);
    assert.equal(manager.status, 200);
    assert.equal((JSON.parse(manager.body) as Record<string, unknown>)['displayName'], 'Megan Bowen');

    const megan = await signIn(idp, msalApp(idp), MEGAN_ID);
    assert.equal(megan.auth.account?.username, 'MeganB@contoso.example');
    const none = await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me/manager`, { Authorization: `Bearer ${megan.auth.accessToken}` });
    assert.equal(none.status, 404);
    const error = (JSON.parse(none.body) as { error: { code: string; innerError: Record<string, string> } }).error;
    assert.equal(error.code, 'Request_ResourceNotFound');
    assert.equal(error.innerError['request-id'], none.headers['request-id']);
  });

  test('Graph answers 401 InvalidAuthenticationToken without a token or with an unknown one', async () => {
    const attempts: Array<Record<string, string>> = [{}, { Authorization: 'Bearer not-a-token-it-issued' }];
    for (const headers of attempts) {
      const res = await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me`, headers);
      assert.equal(res.status, 401);
      assert.match(res.headers['www-authenticate'] ?? '', /^Bearer /);
      const body = JSON.parse(res.body) as { error: { code: string; innerError: Record<string, string> } };
      assert.equal(body.error.code, 'InvalidAuthenticationToken');
      assert.match(body.error.innerError['request-id'] ?? '', GUID);
    }
  });

  test('the verification page approves a code through an HTTPS form POST', async () => {
    const flow = startDeviceCode(msalApp(idp));
    const code = await idp.waitForDeviceCode();
    const html = { Accept: 'text/html', 'Content-Type': 'application/x-www-form-urlencoded' };

    const page = await httpsRequest(idp.caPem, 'GET', `${idp.verificationUri}?code=${code.userCode}`, { Accept: 'text/html' });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /^text\/html/);
    assert.ok(page.body.includes(`value="${code.userCode}"`), 'the code is prefilled');
    assert.ok(page.body.includes('Megan Bowen'), 'the people to sign in as are offered');

    const wrong = await httpsRequest(idp.caPem, 'POST', idp.verificationUri, html, 'user_code=ZZZZZZZZZ&action=approve');
    assert.equal(wrong.status, 404);
    assert.ok(wrong.body.includes('That code was not found'));

    // People type codes in lower case and with spaces; the page accepts that.
    const typed = `${code.userCode.slice(0, 4).toLowerCase()} ${code.userCode.slice(4)}`;
    const ok = await httpsRequest(idp.caPem, 'POST', idp.verificationUri, html,
      new URLSearchParams({ user_code: typed, action: 'approve', user: 'MeganB@contoso.example' }).toString());
    assert.equal(ok.status, 200);
    assert.ok(ok.body.includes('Signed in as Megan Bowen'));

    const auth = await flow.result;
    assert.equal(auth?.account?.username, 'MeganB@contoso.example');

    const again = await httpsRequest(idp.caPem, 'POST', idp.verificationUri, { 'Content-Type': 'application/x-www-form-urlencoded' },
      `user_code=${code.userCode}&action=deny`);
    assert.equal(again.status, 409);
    assert.match(again.body, /already used/);
  });

  test('queued faults: two 429s with Retry-After, then Graph answers normally', async () => {
    const { auth } = await signIn(idp, msalApp(idp));
    const bearer = { Authorization: `Bearer ${auth.accessToken}` };
    idp.faults.push({ endpoint: 'graph', status: 429, headers: { 'Retry-After': '7' }, count: 2, match: (r) => r.path === '/v1.0/me' });

    // A different path is not matched and leaves the fault queued.
    assert.equal((await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me/manager`, bearer)).status, 200);
    for (let i = 0; i < 2; i++) {
      const res = await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me`, bearer);
      assert.equal(res.status, 429);
      assert.equal(res.headers['retry-after'], '7');
      assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'TooManyRequests');
    }
    assert.equal(idp.faults.length, 0);
    assert.equal((await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me`, bearer)).status, 200);
    assert.equal(idp.requests.filter((r) => r.fault).length, 2);
  });

  test('a dropped connection during refresh fails that call only; the next refresh works', async () => {
    const pca = msalApp(idp);
    const { auth } = await signIn(idp, pca);
    idp.faults.push({ endpoint: 'token', destroySocket: true, match: (r) => r.grantType === 'refresh_token' });
    await assert.rejects(pca.acquireTokenSilent({ account: auth.account!, scopes: ['User.Read'], forceRefresh: true }));
    const again = await pca.acquireTokenSilent({ account: auth.account!, scopes: ['User.Read'], forceRefresh: true });
    assert.notEqual(again.accessToken, auth.accessToken);
  });
});

describe('identity emulator on the wire', () => {
  let idp: IdentityEmulator;
  let offsetMs = 0;

  before(async () => {
    idp = await startIdentityEmulator({ intervalSec: 0.1, deviceCodeLifetimeSec: 60, now: () => Date.now() + offsetMs });
  });
  after(async () => {
    await idp.close();
  });

  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

  async function requestDeviceCode(clientId: string): Promise<Record<string, unknown>> {
    const res = await httpsRequest(idp.caPem, 'POST', `${idp.authority}/oauth2/v2.0/devicecode`, form,
      new URLSearchParams({ client_id: clientId, scope: 'User.Read openid profile offline_access' }).toString());
    assert.equal(res.status, 200);
    return JSON.parse(res.body) as Record<string, unknown>;
  }

  test('a code past its lifetime is expired_token for msal-node, and cannot be approved', async () => {
    const flow = startDeviceCode(msalApp(idp));
    const code = await idp.waitForDeviceCode();
    offsetMs = 61_000;
    try {
      await assert.rejects(flow.result, (err: { errorCode?: string; errorMessage?: string }) => {
        assert.equal(err.errorCode, 'post_request_failed');
        assert.equal(err.errorMessage, 'expired_token');
        return true;
      });
      assert.throws(() => idp.approve(code.userCode), /expired/);
    } finally {
      offsetMs = 0;
    }
  });

  test('RFC 8628 grant name, Entra error shape, unknown codes and single use', async () => {
    const clientId = randomUUID();
    const issued = await requestDeviceCode(clientId);
    const deviceCode = String(issued['device_code']);
    const correlationId = randomUUID();
    const poll = (code: string): Promise<RawResponse> => httpsRequest(idp.caPem, 'POST', `${idp.authority}/oauth2/v2.0/token`,
      { ...form, 'client-request-id': correlationId },
      new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: clientId, device_code: code }).toString());

    const pending = await poll(deviceCode);
    assert.equal(pending.status, 400);
    assert.equal(pending.headers['content-type'], 'application/json; charset=utf-8');
    const body = JSON.parse(pending.body) as Record<string, unknown>;
    assert.equal(body['error'], 'authorization_pending');
    assert.deepEqual(body['error_codes'], [70016]);
    assert.match(String(body['error_description']), /^AADSTS70016: .*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: /);
    assert.equal(body['correlation_id'], correlationId);
    assert.match(String(body['timestamp']), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);

    const unknown = JSON.parse((await poll('DAQABIQEAAABnot-a-code')).body) as Record<string, unknown>;
    assert.equal(unknown['error'], 'bad_verification_code');
    assert.deepEqual(unknown['error_codes'], [70018]);

    idp.approve(String(issued['user_code']), MEGAN_ID);
    const tokens = await poll(deviceCode);
    assert.equal(tokens.status, 200);
    const tokenBody = JSON.parse(tokens.body) as Record<string, unknown>;
    assert.equal(tokenBody['token_type'], 'Bearer');
    assert.deepEqual(JSON.parse(Buffer.from(String(tokenBody['client_info']), 'base64url').toString()), { uid: MEGAN_ID, utid: CONTOSO_TENANT_ID });
    assert.equal(String(tokenBody['scope']).includes('offline_access'), false);

    const reused = JSON.parse((await poll(deviceCode)).body) as Record<string, unknown>;
    assert.equal(reused['error'], 'invalid_grant');
    assert.deepEqual(reused['error_codes'], [54005]);
  });

  test('a refresh token unused for longer than its lifetime is invalid_grant AADSTS70008', async () => {
    const pca = msalApp(idp);
    const { auth } = await signIn(idp, pca);
    offsetMs = 91 * 24 * 3600 * 1000;
    try {
      await assert.rejects(pca.acquireTokenSilent({ account: auth.account!, scopes: ['User.Read'], forceRefresh: true }),
        (err: { errorCode?: string; errorMessage?: string }) => {
          assert.equal(err.errorCode, 'invalid_grant');
          assert.match(err.errorMessage ?? '', /AADSTS70008/);
          return true;
        });
    } finally {
      offsetMs = 0;
    }
  });

  test('the calendar honours Prefer: outlook.timezone: local times in that zone, and Preference-Applied says so', async () => {
    const { auth } = await signIn(idp, msalApp(idp));
    const bearer = { Authorization: `Bearer ${auth.accessToken}` };
    const url = `${idp.graphBaseUrl}/me/events?$top=1&$select=start`;
    const utc = await httpsRequest(idp.caPem, 'GET', url, bearer);
    const kolkata = await httpsRequest(idp.caPem, 'GET', url, { ...bearer, Prefer: 'outlook.timezone="Asia/Kolkata"' });
    assert.equal(utc.headers['preference-applied'], undefined);
    assert.equal(kolkata.headers['preference-applied'], 'outlook.timezone="Asia/Kolkata"');
    const start = (r: { body: string }): { dateTime: string; timeZone: string } => (JSON.parse(r.body) as { value: Array<{ start: { dateTime: string; timeZone: string } }> }).value[0]!.start;
    assert.equal(start(utc).timeZone, 'UTC');
    assert.equal(start(kolkata).timeZone, 'Asia/Kolkata');
    // The same instant (the default calendar is built around the emulator's clock, so up to a few
    // ms apart between the two requests), 5 h 30 min later on the wall clock.
    const wall = (s: { dateTime: string }): number => Date.parse(`${s.dateTime.slice(0, 23)}Z`);
    assert.equal(Math.round((wall(start(kolkata)) - wall(start(utc))) / 60_000), 330);
  });

  test('an expired access token is refused by Graph as the emulator clock moves', async () => {
    const { auth } = await signIn(idp, msalApp(idp));
    const bearer = { Authorization: `Bearer ${auth.accessToken}` };
    assert.equal((await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me`, bearer)).status, 200);
    offsetMs = 3601_000;
    try {
      const res = await httpsRequest(idp.caPem, 'GET', `${idp.graphBaseUrl}/me`, bearer);
      assert.equal(res.status, 401);
      assert.match(res.body, /token is expired/);
    } finally {
      offsetMs = 0;
    }
  });
});

test('close() ends hung requests, stops listening and removes the CA file', async () => {
  const idp = await startIdentityEmulator();
  idp.faults.push({ endpoint: 'openid', delayMs: Infinity });
  const hung = httpsRequest(idp.caPem, 'GET', `${idp.authority}/v2.0/.well-known/openid-configuration`);
  hung.catch(() => undefined);
  // Wait until the request has reached the emulator.
  while (!idp.requests.some((r) => r.endpoint === 'openid')) await new Promise((r) => setImmediate(r));
  const pendingWait = idp.waitForDeviceCode();
  pendingWait.catch(() => undefined);
  await idp.close();
  await assert.rejects(hung);
  await assert.rejects(pendingWait, /closed/);
  await assert.rejects(access(idp.caFile));
  await assert.rejects(httpsRequest(idp.caPem, 'GET', `${idp.origin}/devicelogin`), /ECONNREFUSED/);
});
