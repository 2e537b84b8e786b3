import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { AuthError, PublicClientApplication } from '@azure/msal-node';
import { HttpsClient, TransportError } from '../../src/net/https.js';
import { MsalNetworkClient, UnexpectedResponseError, transportFailureOf } from '../../src/auth/network.js';
import { captureLog } from './cache/helpers.js';

/**
 * The network module against a real HTTPS server on 127.0.0.1 with a certificate from a CA
 * made here (trusted through extraCaPem), and once through a real PublicClientApplication.
 */

interface Pki { caPem: string; keyPem: string; certPem: string }

/** A CA and a leaf for 127.0.0.1/localhost. RSA keys come from node:crypto (forge's are slow). */
function makePki(): Pki {
  const newKey = () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
    return { pem, priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e) };
  };
  const validity = (cert: forge.pki.Certificate) => {
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  };
  const caKey = newKey();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKey.pub;
  ca.serialNumber = '01';
  validity(ca);
  const caName = [{ name: 'commonName', value: 'graph-device-agent test CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]);
  ca.sign(caKey.priv, forge.md.sha256.create());

  const leafKey = newKey();
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = leafKey.pub;
  leaf.serialNumber = '02';
  validity(leaf);
  leaf.setSubject([{ name: 'commonName', value: 'localhost' }]);
  leaf.setIssuer(caName);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  leaf.sign(caKey.priv, forge.md.sha256.create());
  return { caPem: forge.pki.certificateToPem(ca), keyPem: leafKey.pem, certPem: forge.pki.certificateToPem(leaf) };
}

/** A lone self-signed certificate for 127.0.0.1. */
function makeSelfSigned(): { keyPem: string; certPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(priv.n, priv.e);
  cert.serialNumber = '03';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const name = [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
  cert.sign(priv, forge.md.sha256.create());
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

const SECRET_DEVICE_CODE = 'DEVICECODE-SECRET-6f1d2c';
const SECRET_REFRESH = 'REFRESH-SECRET-0.AXYZabc';
const SECRET_QUERY = 'QUERY-SECRET-77aa';

let pki: Pki;
let server: https.Server;
let base: string;
const sockets = new Set<net.Socket>();
const received: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }> = [];
/** Token endpoint script for the msal test: what each poll gets. */
let tokenReplies: Array<'pending' | 'reset'> = [];

before(async () => {
  pki = makePki();
  server = https.createServer({ key: pki.keyPem, cert: pki.certPem }, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => void (body += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const route = new URL(req.url ?? '/', 'https://x').pathname;
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(value));
      };
      if (route === '/ok') return json(200, { token_type: 'Bearer', expires_in: 3599 }, { 'x-ms-request-id': 'req-1' });
      if (route === '/pending') return json(400, { error: 'authorization_pending', error_description: 'AADSTS70016: pending' });
      if (route === '/html502') {
        res.writeHead(502, { 'content-type': 'text/html' });
        return res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      }
      if (route === '/hang') return; // never answers
      if (route === '/echo') return json(200, { received: body.length });
      if (route.endsWith('/oauth2/v2.0/devicecode')) {
        return json(200, {
          device_code: SECRET_DEVICE_CODE, user_code: 'Q6GR3KMGL', verification_uri: 'https://microsoft.com/devicelogin',
          expires_in: 900, message: 'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code Q6GR3KMGL to authenticate.',
        });
      }
      if (route.endsWith('/oauth2/v2.0/token')) {
        const next = tokenReplies.shift() ?? 'reset';
        if (next === 'pending') return json(400, { error: 'authorization_pending', error_description: 'AADSTS70016: pending' });
        req.socket.destroy();
        return;
      }
      json(404, { error: 'not_found' });
    });
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function client(options: { timeoutMs?: number; trusted?: boolean } = {}) {
  const log = captureLog();
  const http = new HttpsClient(options.trusted === false ? {} : { extraCaPem: pki.caPem });
  const network = new MsalNetworkClient({ http, timeoutMs: options.timeoutMs ?? 5_000, logger: log.logger });
  return { network, http, log };
}

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  const err = await promise.then(() => assert.fail('the request resolved'), (e: unknown) => e);
  assert.ok(err instanceof AuthError, `expected an msal AuthError, got ${String(err)}`);
  return err;
}

test('a JSON 200 resolves to parsed body, status and lower-case headers', async () => {
  const { network, http } = client();
  try {
    const reply = await network.sendGetRequestAsync<{ token_type: string }>(`${base}/ok`);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { token_type: 'Bearer', expires_in: 3599 });
    assert.equal(reply.headers['x-ms-request-id'], 'req-1');
    assert.match(reply.headers['content-type'] ?? '', /application\/json/);
  } finally {
    http.close();
  }
});

test('a JSON 400 (a pending poll) is returned, not thrown', async () => {
  const { network, http } = client();
  try {
    const reply = await network.sendPostRequestAsync<{ error: string }>(`${base}/pending`, { body: 'grant_type=device_code' });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error, 'authorization_pending');
  } finally {
    http.close();
  }
});

test('an HTML 502 rejects as msal\'s token_parsing_error, with the status kept as the cause', async () => {
  const { network, http } = client();
  try {
    const err = await rejection(network.sendPostRequestAsync(`${base}/html502`, { body: 'x=1' }));
    assert.equal(err.errorCode, 'token_parsing_error');
    assert.match(err.errorMessage, /^Failed to parse response: HTTP 502/);
    assert.ok(err.cause instanceof UnexpectedResponseError);
    assert.equal(err.cause.status, 502);
    assert.equal(err.cause.contentType, 'text/html');
    assert.equal(transportFailureOf(err), undefined, 'a reply is not a transport failure');
  } finally {
    http.close();
  }
});

test('a server that never answers hits the timeout and rejects as network_error', async () => {
  const { network, http } = client({ timeoutMs: 300 });
  try {
    const post = await rejection(network.sendPostRequestAsync(`${base}/hang`, { body: 'x=1' }));
    assert.equal(post.errorCode, 'network_error');
    assert.match(post.errorMessage, /^Request timeout/);
    assert.equal(transportFailureOf(post)?.failure, 'timeout');

    // msal's own per-call GET timeout (instance metadata) is honoured too.
    const get = await rejection(network.sendGetRequestAsync(`${base}/hang`, {}, 200));
    assert.equal(transportFailureOf(get)?.failure, 'timeout');
  } finally {
    http.close();
  }
});

/** What a client that does not trust the server's certificate gets back. */
async function untrustedRejection(url: string): Promise<void> {
  const { network, http } = client({ trusted: false });
  try {
    const err = await rejection(network.sendGetRequestAsync(url));
    assert.equal(err.errorCode, 'network_error');
    const transport = transportFailureOf(err);
    assert.ok(transport instanceof TransportError);
    assert.equal(transport.failure, 'tls', transport.message);
    assert.match(err.errorMessage, /TLS certificate of 127\.0\.0\.1:\d+ is not trusted/);
    assert.match(err.errorMessage, /caFile/);
  } finally {
    http.close();
  }
}

test('a self-signed certificate rejects as network_error carrying the TLS explanation', async () => {
  const selfSigned = makeSelfSigned();
  const other = https.createServer({ key: selfSigned.keyPem, cert: selfSigned.certPem }, (_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    await untrustedRejection(`https://127.0.0.1:${(other.address() as AddressInfo).port}/ok`);
  } finally {
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
});

test('a certificate from an unknown CA (a TLS-inspecting proxy) rejects with the TLS explanation', async () => {
  await untrustedRejection(`${base}/ok`);
});

test('a refused connection rejects as network_error with a connection failure', async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const { network, http } = client();
  try {
    const err = await rejection(network.sendPostRequestAsync(`https://127.0.0.1:${port}/token`, { body: 'x=1' }));
    assert.equal(err.errorCode, 'network_error');
    assert.match(err.errorMessage, /^Network request failed: connection to 127\.0\.0\.1:\d+ failed \(ECONNREFUSED\)/);
    assert.equal(transportFailureOf(err)?.failure, 'connection');
  } finally {
    http.close();
  }
});

test('requests are logged at debug with method, host+path, status and duration, never the body or query', async () => {
  const { network, http, log } = client();
  try {
    const body = `client_id=abc&grant_type=device_code&device_code=${SECRET_DEVICE_CODE}&refresh_token=${SECRET_REFRESH}`;
    await network.sendPostRequestAsync(`${base}/echo?code=${SECRET_QUERY}`, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const seen = received.at(-1);
    assert.equal(seen?.body, body, 'the server got the body unchanged');
    assert.equal(seen?.headers['content-length'], String(Buffer.byteLength(body)));

    const lines = log.lines.filter((line) => line.event === 'http.request');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.equal(line.level, 'debug');
    assert.equal(line.method, 'POST');
    assert.equal(line.url, `${new URL(base).host}/echo`);
    assert.equal(line.status, 200);
    assert.equal(typeof line.duration_ms, 'number');
    for (const secret of [SECRET_DEVICE_CODE, SECRET_REFRESH, SECRET_QUERY]) {
      assert.equal(log.text().includes(secret), false, `${secret} leaked into the log`);
    }
  } finally {
    http.close();
  }
});

test('through msal: a pending 400 keeps the poll going, and a dropped connection surfaces as network_error with our cause', async () => {
  const { network, http, log } = client();
  const authority = `${base}/organizations`;
  const host = new URL(base).host;
  const pca = new PublicClientApplication({
    auth: {
      clientId: '11111111-2222-3333-4444-555555555555',
      authority,
      knownAuthorities: [host],
      authorityMetadata: JSON.stringify({
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        issuer: `${authority}/v2.0`,
        jwks_uri: `${authority}/discovery/v2.0/keys`,
      }),
    },
    system: { networkClient: network },
  });
  tokenReplies = ['pending', 'pending', 'reset'];
  const polls = () => received.filter((r) => r.url.split('?')[0]?.endsWith('/oauth2/v2.0/token')).length;
  const pollsBefore = polls();
  let userCode: string | undefined;
  try {
    const err = await pca.acquireTokenByDeviceCode({
      scopes: ['User.Read'],
      deviceCodeCallback: (response) => void (userCode = response.userCode),
    }).then(() => assert.fail('sign-in succeeded'), (e: unknown) => e);
    assert.equal(userCode, 'Q6GR3KMGL');
    assert.ok(err instanceof AuthError, String(err));
    assert.equal(err.errorCode, 'network_error');
    assert.equal(transportFailureOf(err)?.failure, 'connection');
    assert.equal(polls() - pollsBefore, 3, 'two pending replies, then the dropped poll');
    assert.equal(log.text().includes(SECRET_DEVICE_CODE), false);
  } finally {
    http.close();
  }
});
