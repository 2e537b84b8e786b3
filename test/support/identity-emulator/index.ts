import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '../../../src/log.js';
import { createTlsMaterial, type TlsMaterial } from './certs.js';
import { DeviceCodeStore, type IssuedDeviceCode } from './device-flow.js';
import { FaultQueue } from './faults.js';
import { DEFAULT_GRAPH_ROUTES, type GraphRoute } from './graph.js';
import { SigningKey } from './jwt.js';
import { EmulatorApp, type EmulatorSettings, type RequestLogEntry } from './server.js';
import { TokenService } from './tokens.js';
import { defaultUsers, UserDirectory, type EmulatedUser } from './users.js';

/**
 * An HTTPS stand-in for Microsoft Entra ID (device code flow, refresh, OIDC discovery, JWKS) and
 * Microsoft Graph (/me, /me/manager), for integration tests through the real msal-node and for
 * the demo. See README.md in this folder for endpoints, faults and the wire formats.
 */

export type { EmulatedUser } from './users.js';
export { defaultUsers, ADELE_ID, MEGAN_ID, CONTOSO_TENANT_ID } from './users.js';
export type { Fault, FaultEndpoint, FaultRequest } from './faults.js';
export type { IssuedDeviceCode } from './device-flow.js';
export { USER_CODE_ALPHABET, USER_CODE_LENGTH } from './device-flow.js';
export type { EmulatorSettings, RequestLogEntry } from './server.js';
export type { GraphRoute, GraphContext, GraphReply } from './graph.js';
export { GraphError, graphErrorBody } from './graph.js';
export { aadErrorBody, AAD_ERRORS } from './aad-errors.js';

export interface IdentityEmulatorOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Address to listen on and to put in URLs; '127.0.0.1' by default. */
  host?: string;
  /** The tenant path segment of `authority`; 'organizations' by default. Any tenant path works. */
  tenant?: string;
  /** Who can sign in; Adele Vance (manager: Megan Bowen) and Megan Bowen by default. */
  users?: EmulatedUser[];
  /** Device code poll interval, seconds (fractions allowed); 5 by default, like Entra. */
  intervalSec?: number;
  /** Device code lifetime, seconds; 900 by default. */
  deviceCodeLifetimeSec?: number;
  /** Access token lifetime, seconds; 3600 by default. */
  accessTokenLifetimeSec?: number;
  /** Refresh token lifetime (sliding: each refresh starts a new one), seconds; 90 days by default. */
  refreshTokenLifetimeSec?: number;
  /** The emulator's clock, ms since the epoch; Date.now by default. Expiry follows it. */
  now?: () => number;
  /** Kill a refresh token once it has been used (Entra keeps it valid); false by default. */
  singleUseRefreshTokens?: boolean;
  /** 403 when an access token lacks a Graph route's scope; false by default. */
  enforceGraphScopes?: boolean;
  /** More Graph routes, tried before the built-in ones (so they can also replace them). */
  graphRoutes?: GraphRoute[];
  /** Where the emulator logs what it does (never a token); silent by default. */
  logger?: Logger;
}

export interface IdentityEmulator {
  /** 'https://127.0.0.1:<port>' */
  readonly origin: string;
  readonly port: number;
  /** `${origin}/${tenant}`: msal-node's `auth.authority`. */
  readonly authority: string;
  /** '127.0.0.1:<port>': what msal-node's `auth.knownAuthorities` must contain. */
  readonly knownAuthority: string;
  /** `${origin}/v1.0` */
  readonly graphBaseUrl: string;
  /** `${origin}/devicelogin` */
  readonly verificationUri: string;
  /** PEM of the CA that signed the server certificate. */
  readonly caPem: string;
  /** The same PEM in a file (in a temp dir removed by close()). */
  readonly caFile: string;
  readonly users: readonly EmulatedUser[];
  /** Lifetimes and switches; change them at any time, they apply to the next request. */
  readonly settings: EmulatorSettings;
  /** Queue of faults for the next matching requests: see faults.ts. */
  readonly faults: FaultQueue;
  /** Every request, in arrival order. */
  readonly requests: RequestLogEntry[];
  /** As if the person signed in on the verification page; default user: the first configured. Throws if the code cannot be approved. */
  approve(userCode: string, userIdOrUpn?: string): void;
  /** As if the person pressed Deny: the next poll gets authorization_declined. */
  deny(userCode: string): void;
  /** The newest pending code not handed out yet, or else the next one issued. */
  waitForDeviceCode(): Promise<IssuedDeviceCode>;
  /** Next refresh of those tokens → invalid_grant AADSTS50173, suberror bad_token. Returns how many died. */
  revokeRefreshTokens(userIdOrUpn?: string): number;
  /** A password change or "revoke sessions": refresh tokens die and Graph answers 401 to the access tokens in date. */
  revokeSessions(userIdOrUpn?: string): number;
  /** Every access, refresh and id token and device_code issued so far. */
  issuedSecrets(): string[];
  /** Closes the server and every connection (hung ones too) and removes the temp dir. */
  close(): Promise<void>;
}

/**
 * A CA, a server certificate and a token signing key cost about half a second of CPU (three
 * RSA-2048 key pairs, and forge signing the certificates), and a test run starts an emulator in
 * some fifty processes: every emulator for the same host shares one set, made on first use and
 * kept for a day in node_modules/.cache (test keys for 127.0.0.1, nothing else trusts them), so
 * later processes read it instead. Nothing depends on two emulators having different ones (the
 * tests of an untrusted certificate make their own, in auth/network.test.ts).
 */
const keyMaterial = new Map<string, Promise<[TlsMaterial, SigningKey]>>();
const KEY_CACHE = fileURLToPath(new URL('../../../node_modules/.cache/graph-device-agent-emulator-keys/', import.meta.url));
const KEY_CACHE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

interface CachedKeys {
  made: number;
  tls: TlsMaterial;
  signingKeyPem: string;
}

async function makeKeyMaterial(local: boolean, host: string): Promise<[TlsMaterial, SigningKey]> {
  const file = join(KEY_CACHE, `${local ? 'local' : host.replace(/[^A-Za-z0-9.-]/g, '_')}.json`);
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as CachedKeys;
    // The certificates are valid 30 days; a day-old set is made again, well before.
    if (Date.now() - cached.made < KEY_CACHE_MAX_AGE_MS && cached.made <= Date.now()) {
      return [cached.tls, SigningKey.fromPem(cached.signingKeyPem)];
    }
  } catch {
    // none yet, or unreadable: make a new set
  }
  const made = await Promise.all([createTlsMaterial(local ? {} : { extraHosts: [host] }), SigningKey.generate()]);
  try {
    await mkdir(KEY_CACHE, { recursive: true, mode: 0o700 });
    // Processes starting together may each make a set: each writes its own temp file and the
    // rename makes a whole file appear; the last one wins, and every set works.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const content: CachedKeys = { made: Date.now(), tls: made[0], signingKeyPem: made[1].toPem() };
    await writeFile(temp, JSON.stringify(content), { mode: 0o600 });
    await rename(temp, file);
  } catch {
    // a read-only checkout: the next process makes its own
  }
  return made;
}

/** The CA and server certificate every emulator on 127.0.0.1 uses (for other local test servers too). */
export async function sharedTlsMaterial(): Promise<TlsMaterial> {
  return (await keyMaterialFor('127.0.0.1'))[0];
}

function keyMaterialFor(host: string): Promise<[TlsMaterial, SigningKey]> {
  const local = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const key = local ? '' : host;
  let made = keyMaterial.get(key);
  if (!made) {
    made = makeKeyMaterial(local, host);
    made.catch(() => keyMaterial.delete(key));
    keyMaterial.set(key, made);
  }
  return made;
}

export async function startIdentityEmulator(options: IdentityEmulatorOptions = {}): Promise<IdentityEmulator> {
  const host = options.host ?? '127.0.0.1';
  const tenant = options.tenant ?? 'organizations';
  const now = options.now ?? Date.now;
  const log = options.logger ?? silentLogger();
  const users = new UserDirectory(options.users ?? defaultUsers());
  const settings: EmulatorSettings = {
    intervalSec: options.intervalSec ?? 5,
    deviceCodeLifetimeSec: options.deviceCodeLifetimeSec ?? 900,
    accessTokenLifetimeSec: options.accessTokenLifetimeSec ?? 3600,
    refreshTokenLifetimeSec: options.refreshTokenLifetimeSec ?? 90 * 24 * 3600,
    enforceGraphScopes: options.enforceGraphScopes ?? false,
  };

  const [[tls, signingKey], dir] = await Promise.all([
    keyMaterialFor(host),
    mkdtemp(join(tmpdir(), 'identity-emulator-')),
  ]);
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, tls.caPem, { mode: 0o644 });

  const sockets = new Set<Socket>();
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that resets mid-handshake (or a fault test) must not crash the test process.
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_err, socket) => socket.destroy());

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('identity emulator: no TCP address');
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const origin = `https://${hostInUrl}:${address.port}`;

  const deviceCodes = new DeviceCodeStore(now, () => settings.deviceCodeLifetimeSec * 1000);
  const tokens = new TokenService({
    now,
    lifetimes: () => ({ accessTokenMs: settings.accessTokenLifetimeSec * 1000, refreshTokenMs: settings.refreshTokenLifetimeSec * 1000 }),
    signingKey,
    origin,
    singleUseRefreshTokens: options.singleUseRefreshTokens ?? false,
  });
  const faults = new FaultQueue();
  const requests: RequestLogEntry[] = [];
  const app = new EmulatorApp({
    origin, settings, now, users, deviceCodes, tokens, signingKey, faults, requests, log,
    graphRoutes: [...(options.graphRoutes ?? []), ...DEFAULT_GRAPH_ROUTES],
  });
  server.on('request', app.handle);
  log.info({ event: 'idp.started', origin, tenant }, 'identity emulator listening');

  const resolveUser = (idOrUpn: string | undefined): EmulatedUser => {
    if (idOrUpn === undefined) return users.first();
    const user = users.find(idOrUpn);
    if (!user) throw new Error(`identity emulator: no user "${idOrUpn}"`);
    return user;
  };

  let closing: Promise<void> | undefined;
  return {
    origin,
    port: address.port,
    authority: `${origin}/${tenant}`,
    knownAuthority: `${hostInUrl}:${address.port}`,
    graphBaseUrl: `${origin}/v1.0`,
    verificationUri: `${origin}/devicelogin`,
    caPem: tls.caPem,
    caFile,
    users: users.all(),
    settings,
    faults,
    requests,

    approve(userCode, userIdOrUpn) {
      const user = resolveUser(userIdOrUpn);
      const outcome = deviceCodes.approve(userCode, user.id);
      if (outcome.kind !== 'done') throw new Error(`identity emulator: cannot approve ${userCode}: ${outcome.kind}`);
      log.info({ event: 'idp.device_code.approved', userCode: outcome.record.userCode, user: user.userPrincipalName, via: 'test' }, 'identity emulator: device code approved');
    },

    deny(userCode) {
      const outcome = deviceCodes.deny(userCode);
      if (outcome.kind !== 'done') throw new Error(`identity emulator: cannot deny ${userCode}: ${outcome.kind}`);
      log.info({ event: 'idp.device_code.declined', userCode: outcome.record.userCode, via: 'test' }, 'identity emulator: device code declined');
    },

    waitForDeviceCode: () => deviceCodes.waitForDeviceCode(),

    revokeRefreshTokens(userIdOrUpn) {
      const userId = userIdOrUpn === undefined ? undefined : resolveUser(userIdOrUpn).id;
      const count = tokens.revokeRefreshTokens(userId);
      log.info({ event: 'idp.refresh.revoked', userId, count }, 'identity emulator: refresh tokens revoked');
      return count;
    },

    revokeSessions(userIdOrUpn) {
      const userId = userIdOrUpn === undefined ? undefined : resolveUser(userIdOrUpn).id;
      const count = tokens.revokeSessions(userId);
      log.info({ event: 'idp.sessions.revoked', userId, count }, 'identity emulator: sessions revoked');
      return count;
    },

    issuedSecrets: () => [...tokens.issuedSecrets(), ...deviceCodes.deviceCodes()],

    close() {
      closing ??= (async () => {
        deviceCodes.close();
        app.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
        await rm(dir, { recursive: true, force: true });
        log.info({ event: 'idp.stopped', origin }, 'identity emulator stopped');
      })();
      return closing;
    },
  };
}
