import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createTlsMaterial } from './identity-emulator/certs.js';
import { SigningKey } from './identity-emulator/jwt.js';

/**
 * A plain OAuth 2.0 / OpenID Connect server with RFC 8628, deliberately NOT shaped like Entra ID:
 * its device authorization endpoint is `/oauth/device_authorization` (not `.../devicecode`), it
 * accepts only the RFC's grant type URN, it sends no `client_info`, it spells the token type
 * "bearer", it returns `verification_uri_complete`, and its "Graph" is a bare `/api/v1.0/me`.
 * It stands for the independent server the agent must also work with (protocolMode OIDC).
 */
export interface Rfc8628Server {
  origin: string;
  issuer: string;
  knownAuthority: string;
  caFile: string;
  graphBaseUrl: string;
  pending(): string[];
  approve(userCode: string): void;
  grantTypesSeen: string[];
  close(): Promise<void>;
}

export async function startRfc8628Server(): Promise<Rfc8628Server> {
  const tls = await createTlsMaterial();
  const key = await SigningKey.generate();
  const dir = await mkdtemp(path.join(tmpdir(), 'rfc8628-'));
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, tls.caPem);
  const codes = new Map<string, { userCode: string; approved: boolean; expiresAt: number }>();
  const tokens = new Set<string>();
  const grantTypesSeen: string[] = [];
  let origin = '';

  const json = (res: import('node:http').ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const form = async (req: import('node:http').IncomingMessage): Promise<URLSearchParams> => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return new URLSearchParams(text);
  };

  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const issuer = `${origin}/realm`;
    if (req.method === 'GET' && url.pathname === '/realm/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${origin}/oauth/authorize`,
        token_endpoint: `${origin}/oauth/token`,
        device_authorization_endpoint: `${origin}/oauth/device_authorization`,
        jwks_uri: `${origin}/oauth/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/oauth/jwks') return json(res, 200, key.jwks());
    if (req.method === 'POST' && url.pathname === '/oauth/device_authorization') {
      const deviceCode = randomBytes(24).toString('hex');
      const userCode = `${randomBytes(2).toString('hex').toUpperCase()}-${randomBytes(2).toString('hex').toUpperCase()}`;
      codes.set(deviceCode, { userCode, approved: false, expiresAt: Date.now() + 60_000 });
      return json(res, 200, {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: `${origin}/device`,
        verification_uri_complete: `${origin}/device?user_code=${userCode}`,
        expires_in: 60,
        interval: 0.1,
      });
    }
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      const body = await form(req);
      const grant = body.get('grant_type') ?? '';
      grantTypesSeen.push(grant);
      if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
        const entry = codes.get(body.get('device_code') ?? '');
        if (!entry) return json(res, 400, { error: 'invalid_grant' });
        if (!entry.approved) return json(res, 400, { error: 'authorization_pending' });
        codes.delete(body.get('device_code')!);
      } else if (grant === 'refresh_token') {
        if (!tokens.has(body.get('refresh_token') ?? '')) return json(res, 400, { error: 'invalid_grant' });
      } else {
        return json(res, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${grant} is not supported` });
      }
      const now = Math.floor(Date.now() / 1000);
      const access = randomBytes(24).toString('hex');
      const refresh = randomBytes(24).toString('hex');
      tokens.add(access);
      tokens.add(refresh);
      return json(res, 200, {
        token_type: 'bearer',
        access_token: access,
        refresh_token: refresh,
        expires_in: 3600,
        scope: body.get('scope') ?? 'openid',
        id_token: key.sign({
          iss: issuer, aud: body.get('client_id'), sub: 'user-1234', iat: now, nbf: now, exp: now + 3600,
          name: 'Ravi Kumar', preferred_username: 'ravi@example.org',
        }),
      });
    }
    if (req.method === 'GET' && url.pathname.startsWith('/api/v1.0/me')) {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '');
      if (!tokens.has(token)) return json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'no' } });
      if (url.pathname === '/api/v1.0/me') return json(res, 200, { displayName: 'Ravi Kumar', jobTitle: 'Facilities' });
      return json(res, 404, { error: { code: 'Request_ResourceNotFound', message: 'no manager' } });
    }
    return json(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `https://127.0.0.1:${port}`;
  return {
    origin,
    issuer: `${origin}/realm`,
    knownAuthority: `127.0.0.1:${port}`,
    caFile,
    graphBaseUrl: `${origin}/api/v1.0`,
    pending: () => [...codes.values()].filter((c) => !c.approved).map((c) => c.userCode),
    approve(userCode) {
      for (const c of codes.values()) if (c.userCode === userCode) c.approved = true;
    },
    grantTypesSeen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
