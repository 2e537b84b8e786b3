import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../src/log.js';
import { AAD_ERRORS, aadErrorBody, type AadErrorName } from './aad-errors.js';
import type { DeviceCodeStore } from './device-flow.js';
import type { Fault, FaultEndpoint, FaultQueue, FaultRequest } from './faults.js';
import { GraphError, graphCodeForStatus, graphErrorBody, hasAnyScope, type GraphRoute } from './graph.js';
import type { SigningKey } from './jwt.js';
import { renderPage, type PageModel } from './page.js';
import type { TokenService } from './tokens.js';
import type { EmulatedUser, UserDirectory } from './users.js';

/**
 * The emulator's HTTP side: routes requests to the OIDC documents, the device code and token
 * endpoints, the Graph stand-in and the verification page; applies queued faults; keeps the
 * request log. State lives in the stores it is given.
 */

/** Lifetimes and switches, read on every request so a test can change them while running. */
export interface EmulatorSettings {
  /** Poll interval sent with each device code, seconds; fractions allowed (msal-node multiplies by 1000). */
  intervalSec: number;
  deviceCodeLifetimeSec: number;
  accessTokenLifetimeSec: number;
  refreshTokenLifetimeSec: number;
  /** Answer 403 Authorization_RequestDenied when a token lacks a route's scope. Off by default. */
  enforceGraphScopes: boolean;
}

export interface RequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Which part of the emulator answered; undefined for unknown paths. */
  endpoint?: FaultEndpoint;
  /** grant_type of a token request. */
  grantType?: string;
  clientId?: string;
  /** The user code a device code request issued, or a poll or page post was about (not a secret: it is on screen). */
  userCode?: string;
  /** HTTP status sent; 0 while no reply has been sent (a hang) or when the socket was dropped. */
  status: number;
  /** Emulator clock (ms) when the request arrived. */
  at: number;
  /** True when a queued fault shaped this request. */
  fault: boolean;
}

export interface AppDeps {
  origin: string;
  settings: EmulatorSettings;
  now: () => number;
  users: UserDirectory;
  deviceCodes: DeviceCodeStore;
  tokens: TokenService;
  signingKey: SigningKey;
  faults: FaultQueue;
  graphRoutes: GraphRoute[];
  requests: RequestLogEntry[];
  log: Logger;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPH_JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const MAX_BODY_BYTES = 1024 * 1024;
const DEVICE_CODE_GRANTS = new Set(['device_code', 'urn:ietf:params:oauth:grant-type:device_code']);
/** Path segments that are not tenants. */
const NOT_TENANTS = new Set(['v1.0', 'devicelogin', 'favicon.ico']);

type Route =
  | { endpoint: 'openid'; kind: 'configuration'; tenant: string }
  | { endpoint: 'openid'; kind: 'instance-discovery' }
  | { endpoint: 'jwks'; tenant: string }
  | { endpoint: 'devicecode'; tenant: string }
  | { endpoint: 'token'; tenant: string }
  | { endpoint: 'graph'; path: string }
  | { endpoint: 'page' };

function route(pathname: string): Route | undefined {
  const segments = pathname.split('/').filter(Boolean);
  const [first, ...rest] = segments;
  if (!first) return undefined;
  if (first === 'v1.0') return { endpoint: 'graph', path: `/${rest.join('/')}` };
  if (first === 'devicelogin' && rest.length === 0) return { endpoint: 'page' };
  if (pathname === '/common/discovery/instance') return { endpoint: 'openid', kind: 'instance-discovery' };
  if (NOT_TENANTS.has(first)) return undefined;
  const tenant = decodeURIComponent(first);
  switch (rest.join('/')) {
    case 'v2.0/.well-known/openid-configuration':
    case '.well-known/openid-configuration':
      return { endpoint: 'openid', kind: 'configuration', tenant };
    case 'discovery/v2.0/keys':
    case 'discovery/keys':
      return { endpoint: 'jwks', tenant };
    case 'oauth2/v2.0/devicecode':
      return { endpoint: 'devicecode', tenant };
    case 'oauth2/v2.0/token':
      return { endpoint: 'token', tenant };
    default:
      return undefined;
  }
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function scopesOf(form: URLSearchParams): string[] {
  return (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
}

/** One request being answered: records its status in the log entry as it replies. */
class Exchange {
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly entry: RequestLogEntry,
  ) {}

  send(status: number, body: string | Buffer, headers: Record<string, string>): void {
    if (this.res.headersSent || this.res.destroyed) return;
    this.entry.status = status;
    this.res.writeHead(status, { 'Content-Length': Buffer.byteLength(body).toString(), ...headers });
    this.res.end(body);
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.send(status, JSON.stringify(body), { 'Content-Type': JSON_TYPE, ...headers });
  }
}

export class EmulatorApp {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hung = new Set<() => void>();

  constructor(private readonly deps: AppDeps) {}

  /** The request listener for the HTTPS server. Never throws; a bug answers 500. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.dispatch(req, res).catch((err: unknown) => {
      this.deps.log.error({ event: 'idp.internal_error', err }, 'identity emulator: request failed');
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('identity emulator: internal error\n');
      }
    });
  };

  /** Ends pending fault delays (hangs included) so close() can finish. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const release of this.hung) release();
    this.hung.clear();
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { deps } = this;
    const url = new URL(req.url ?? '/', deps.origin);
    const target = route(url.pathname);
    const method = req.method ?? 'GET';
    const entry: RequestLogEntry = {
      method, path: url.pathname, status: 0, at: deps.now(), fault: false,
      ...(target ? { endpoint: target.endpoint } : {}),
    };
    deps.requests.push(entry);
    const exchange = new Exchange(req, res, entry);

    let form: URLSearchParams | undefined;
    if (method === 'POST') {
      try {
        form = new URLSearchParams(await readBody(req));
      } catch (err) {
        if (err instanceof BodyTooLarge) exchange.send(413, 'request body too large\n', { 'Content-Type': 'text/plain; charset=utf-8' });
        return;
      }
      const grantType = form.get('grant_type');
      const clientId = form.get('client_id');
      if (grantType) entry.grantType = grantType;
      if (clientId) entry.clientId = clientId;
    }

    if (!target) {
      exchange.json(404, { error: 'not_found', error_description: `identity emulator: nothing at ${method} ${url.pathname}` });
      return;
    }

    const faultRequest: FaultRequest = {
      endpoint: target.endpoint, method, path: url.pathname, query: url.searchParams, headers: req.headers,
      ...(form ? { form } : {}),
      ...(entry.grantType ? { grantType: entry.grantType } : {}),
    };
    const fault = deps.faults.take(faultRequest);
    if (fault) {
      entry.fault = true;
      deps.log.info({ event: 'idp.fault', endpoint: target.endpoint, path: url.pathname, status: fault.status, destroySocket: fault.destroySocket, delayMs: fault.delayMs }, 'identity emulator: injecting a fault');
      if (fault.delayMs !== undefined) await this.delay(fault.delayMs);
      if (res.destroyed) return;
      if (fault.destroySocket) {
        req.socket.destroy();
        return;
      }
      if (fault.status !== undefined) {
        this.sendFault(exchange, target.endpoint, fault, fault.status);
        return;
      }
    }

    switch (target.endpoint) {
      case 'openid':
        if (target.kind === 'configuration') this.openIdConfiguration(exchange, target.tenant);
        else this.instanceDiscovery(exchange, url.searchParams);
        return;
      case 'jwks':
        exchange.json(200, deps.signingKey.jwks());
        return;
      case 'devicecode':
        if (!form) return this.methodNotAllowed(exchange, 'POST');
        this.deviceCode(exchange, target.tenant, form);
        return;
      case 'token':
        if (!form) return this.methodNotAllowed(exchange, 'POST');
        this.token(exchange, form);
        return;
      case 'graph':
        this.graph(exchange, method, target.path, url.searchParams);
        return;
      case 'page':
        this.page(exchange, url.searchParams, form);
        return;
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // setTimeout caps at 2^31-1 ms and fires at once for Infinity: treat those as "forever".
      if (!Number.isFinite(ms) || ms > 0x7fffffff) {
        this.hung.add(resolve);
        return;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, Math.max(0, ms));
      this.timers.add(timer);
    });
  }

  private sendFault(exchange: Exchange, endpoint: FaultEndpoint, fault: Fault, status: number): void {
    const { deps } = this;
    const headers: Record<string, string> = {};
    let body: string | Buffer;
    let contentType: string;
    if (Buffer.isBuffer(fault.body)) {
      // Bytes as they are: invalid UTF-8, a compressed body.
      body = fault.body;
      contentType = 'application/octet-stream';
      if (endpoint === 'graph') headers['request-id'] = randomUUID();
    } else if (endpoint === 'graph') {
      const requestId = randomUUID();
      const clientRequestId = headerValue(exchange.req, 'client-request-id') ?? randomUUID();
      headers['request-id'] = requestId;
      headers['client-request-id'] = clientRequestId;
      const payload = fault.body ?? graphErrorBody(graphCodeForStatus(status), `Injected fault: HTTP ${status}`, { requestId, clientRequestId, now: deps.now() });
      body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      contentType = typeof payload === 'string' ? 'text/plain; charset=utf-8' : GRAPH_JSON_TYPE;
    } else {
      const payload = fault.body ?? aadErrorBody({
        ...(status >= 500 || status === 429
          ? { error: 'temporarily_unavailable', code: AAD_ERRORS.temporarilyUnavailable.code, text: AAD_ERRORS.temporarilyUnavailable.text }
          : { error: 'invalid_request', code: 900144, text: `Injected fault: HTTP ${status}.` }),
        ...this.aadContext(exchange),
      });
      body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      contentType = typeof payload === 'string' ? 'text/plain; charset=utf-8' : JSON_TYPE;
    }
    exchange.send(status, body, { 'Content-Type': fault.contentType ?? contentType, ...headers, ...(fault.headers ?? {}) });
  }

  private methodNotAllowed(exchange: Exchange, allow: string): void {
    exchange.json(405, { error: 'invalid_request', error_description: `use ${allow}` }, { Allow: allow });
  }

  // --- OpenID Connect discovery ---------------------------------------------------------------

  private openIdConfiguration(exchange: Exchange, tenant: string): void {
    const { origin } = this.deps;
    const base = `${origin}/${encodeURIComponent(tenant)}`;
    exchange.json(200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      // msal-common accepts an issuer whose scheme+host+port equal the authority's (the path is
      // not compared) or whose host is in knownAuthorities.
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'oid', 'preferred_username', 'tid', 'ver'],
      tenant_region_scope: null,
      cloud_instance_name: new URL(origin).host,
      msgraph_host: new URL(origin).host,
    });
  }

  /** Entra's instance discovery, answered for this host. msal-node skips it when the host is in knownAuthorities. */
  private instanceDiscovery(exchange: Exchange, query: URLSearchParams): void {
    const host = new URL(this.deps.origin).host;
    let tenant = 'common';
    const authorize = query.get('authorization_endpoint');
    if (authorize) {
      try {
        tenant = new URL(authorize).pathname.split('/').filter(Boolean)[0] ?? tenant;
      } catch {
        // keep 'common'
      }
    }
    exchange.json(200, {
      tenant_discovery_endpoint: `${this.deps.origin}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  }

  // --- Device code and token endpoints --------------------------------------------------------

  private aadContext(exchange: Exchange): { correlationId?: string; origin: string; now: number } {
    const correlationId = headerValue(exchange.req, 'client-request-id');
    return { origin: this.deps.origin, now: this.deps.now(), ...(correlationId ? { correlationId } : {}) };
  }

  private aadError(exchange: Exchange, name: AadErrorName): void {
    const spec: { status: number; error: string; code: number; text: string; suberror?: string } = AAD_ERRORS[name];
    const body = aadErrorBody({
      error: spec.error, code: spec.code, text: spec.text,
      ...(spec.suberror ? { suberror: spec.suberror } : {}),
      ...this.aadContext(exchange),
    });
    exchange.json(spec.status, body, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache', 'x-ms-request-id': body.trace_id });
  }

  private missingParameter(exchange: Exchange, parameter: string): void {
    const body = aadErrorBody({
      error: 'invalid_request', code: 900144,
      text: `The request body must contain the following parameter: '${parameter}'.`,
      ...this.aadContext(exchange),
    });
    exchange.json(400, body);
  }

  private deviceCode(exchange: Exchange, tenant: string, form: URLSearchParams): void {
    const { deps } = this;
    const clientId = form.get('client_id');
    if (!clientId) return this.missingParameter(exchange, 'client_id');
    const scopes = scopesOf(form);
    if (scopes.length === 0) return this.missingParameter(exchange, 'scope');
    const record = deps.deviceCodes.issue({ clientId, scopes, tenant });
    exchange.entry.userCode = record.userCode;
    const verificationUri = `${deps.origin}/devicelogin`;
    deps.log.info({ event: 'idp.device_code.issued', userCode: record.userCode, clientId, scopes, tenant }, 'identity emulator: device code issued');
    exchange.json(200, {
      user_code: record.userCode,
      device_code: record.deviceCode,
      verification_uri: verificationUri,
      expires_in: deps.settings.deviceCodeLifetimeSec,
      interval: deps.settings.intervalSec,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${record.userCode} to authenticate.`,
    }, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' });
  }

  private token(exchange: Exchange, form: URLSearchParams): void {
    const grantType = form.get('grant_type');
    const clientId = form.get('client_id');
    if (!grantType) return this.missingParameter(exchange, 'grant_type');
    if (!clientId) return this.missingParameter(exchange, 'client_id');
    if (DEVICE_CODE_GRANTS.has(grantType)) return this.deviceCodeGrant(exchange, clientId, form);
    if (grantType === 'refresh_token') return this.refreshGrant(exchange, clientId, form);
    this.aadError(exchange, 'unsupportedGrantType');
  }

  private sendTokens(exchange: Exchange, body: unknown): void {
    exchange.json(200, body, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache', 'x-ms-request-id': randomUUID() });
  }

  private deviceCodeGrant(exchange: Exchange, clientId: string, form: URLSearchParams): void {
    const { deps } = this;
    const deviceCode = form.get('device_code');
    if (!deviceCode) return this.missingParameter(exchange, 'device_code');
    const outcome = deps.deviceCodes.poll(deviceCode, clientId);
    if (outcome.kind !== 'unknown') exchange.entry.userCode = outcome.record.userCode;
    switch (outcome.kind) {
      case 'unknown': return this.aadError(exchange, 'badVerificationCode');
      case 'pending': return this.aadError(exchange, 'authorizationPending');
      case 'declined': return this.aadError(exchange, 'authorizationDeclined');
      case 'expired': return this.aadError(exchange, 'expiredToken');
      case 'already-redeemed': return this.aadError(exchange, 'codeAlreadyRedeemed');
      case 'approved': {
        const { record } = outcome;
        const user = record.userId ? deps.users.find(record.userId) : undefined;
        if (!user) return this.aadError(exchange, 'authorizationDeclined');
        const body = deps.tokens.issue(user, clientId, record.scopes, record.tenant);
        deps.log.info({ event: 'idp.token.issued', grantType: 'device_code', userCode: record.userCode, user: user.userPrincipalName, clientId }, 'identity emulator: signed in');
        return this.sendTokens(exchange, body);
      }
    }
  }

  private refreshGrant(exchange: Exchange, clientId: string, form: URLSearchParams): void {
    const { deps } = this;
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) return this.missingParameter(exchange, 'refresh_token');
    const outcome = deps.tokens.refresh(refreshToken, clientId, scopesOf(form), (id) => deps.users.find(id));
    if (!outcome.ok) {
      deps.log.info({ event: 'idp.refresh.rejected', reason: outcome.reason, clientId }, 'identity emulator: refresh token rejected');
      const name: AadErrorName = {
        unknown: 'refreshTokenMalformed',
        expired: 'refreshTokenExpired',
        revoked: 'refreshTokenRevoked',
        'other-client': 'refreshTokenOtherClient',
      }[outcome.reason] as AadErrorName;
      return this.aadError(exchange, name);
    }
    deps.log.info({ event: 'idp.token.issued', grantType: 'refresh_token', userId: outcome.userId, clientId }, 'identity emulator: tokens refreshed');
    this.sendTokens(exchange, outcome.body);
  }

  // --- Graph ----------------------------------------------------------------------------------

  private graph(exchange: Exchange, method: string, path: string, query: URLSearchParams): void {
    const { deps } = this;
    const requestId = randomUUID();
    const clientRequestId = headerValue(exchange.req, 'client-request-id') ?? randomUUID();
    const ids = { requestId, clientRequestId, now: deps.now() };
    const baseHeaders = { 'request-id': requestId, 'client-request-id': clientRequestId, 'Content-Type': GRAPH_JSON_TYPE };
    const fail = (status: number, code: string, message: string, extra: Record<string, string> = {}): void =>
      exchange.send(status, JSON.stringify(graphErrorBody(code, message, ids)), { ...baseHeaders, ...extra });

    const check = deps.tokens.checkAccessToken(headerValue(exchange.req, 'authorization'));
    if (!check.ok) {
      const message = {
        missing: 'Access token is empty.',
        malformed: 'IDX14100: JWT is not well formed.',
        unknown: 'Access token validation failure. Invalid audience.',
        expired: 'Lifetime validation failed, the token is expired.',
        revoked: 'Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp',
      }[check.reason];
      return fail(401, 'InvalidAuthenticationToken', message, {
        'WWW-Authenticate': `Bearer realm="", authorization_uri="${deps.origin}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
      });
    }
    const me = deps.users.find(check.record.userId);
    if (!me) return fail(404, 'Request_ResourceNotFound', `Resource '${check.record.userId}' does not exist or one of its queried reference-property objects are not present.`);

    const normalized = path.replace(/\/+$/, '').toLowerCase() || '/';
    const candidates = deps.graphRoutes.filter((r) => r.path.toLowerCase() === normalized);
    if (candidates.length === 0) {
      const segment = path.split('/').filter(Boolean).pop() ?? '';
      return fail(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
    }
    const graphRoute = candidates.find((r) => r.method === method);
    if (!graphRoute) return fail(405, 'Request_BadRequest', `Specified HTTP method is not allowed for the request uri.`);
    if (deps.settings.enforceGraphScopes && !hasAnyScope(check.record.scopes, graphRoute)) {
      return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    try {
      const reply = graphRoute.handle({ me, users: deps.users, query, baseUrl: `${deps.origin}/v1.0`, scopes: check.record.scopes, headers: exchange.req.headers });
      exchange.send(reply.status, JSON.stringify(reply.body), { ...baseHeaders, ...(reply.headers ?? {}) });
    } catch (err) {
      if (err instanceof GraphError) return fail(err.status, err.code, err.message);
      throw err;
    }
  }

  // --- Verification page ----------------------------------------------------------------------

  private page(exchange: Exchange, query: URLSearchParams, form: URLSearchParams | undefined): void {
    const { deps } = this;
    const model: PageModel = {
      users: deps.users.all(),
      pendingCodes: deps.deviceCodes.pending().map((r) => r.userCode),
    };
    const prefill = query.get('code') ?? query.get('otc');
    if (prefill) model.userCode = prefill;
    if (!form) return this.renderPage(exchange, 200, model);

    const userCode = (form.get('user_code') ?? '').trim();
    const action = form.get('action');
    const userKey = form.get('user');
    model.userCode = userCode;
    const user: EmulatedUser | undefined = userKey ? deps.users.find(userKey) : deps.users.first();
    if (user) model.selectedUserId = user.id;
    const problem = (status: number, title: string, detail: string): void =>
      this.renderPage(exchange, status, { ...model, notice: { kind: 'error', title, detail } });

    if (!userCode) return problem(400, 'Enter a code', 'Type the code shown on your device.');
    if (action !== 'approve' && action !== 'deny') return problem(400, 'Choose Approve or Deny', `Unknown action "${action ?? ''}".`);
    if (!user) return problem(400, 'Unknown user', `No user "${userKey ?? ''}" on this emulator.`);

    const outcome = action === 'approve' ? deps.deviceCodes.approve(userCode, user.id) : deps.deviceCodes.deny(userCode);
    if (outcome.kind !== 'unknown') exchange.entry.userCode = outcome.record.userCode;
    switch (outcome.kind) {
      case 'unknown':
        return problem(404, 'That code was not found', 'Check the code on your device and try again.');
      case 'expired':
        return problem(410, 'That code has expired', 'Start sign-in again on your device to get a new code.');
      case 'already-decided':
        return problem(409, 'That code was already used', `It was ${outcome.record.status === 'declined' ? 'denied' : 'approved'} before. Start sign-in again on your device for a new code.`);
      case 'done': {
        const code = outcome.record.userCode;
        deps.log.info({ event: action === 'approve' ? 'idp.device_code.approved' : 'idp.device_code.declined', userCode: code, user: user.userPrincipalName, via: 'page' }, 'identity emulator: device code decided on the verification page');
        const notice = action === 'approve'
          ? { kind: 'ok' as const, title: `Signed in as ${user.displayName}`, detail: `Code ${code} approved. You can return to your device.` }
          : { kind: 'ok' as const, title: 'Sign-in denied', detail: `Code ${code} was denied. The device will show that sign-in was declined.` };
        return this.renderPage(exchange, 200, { ...model, userCode: '', pendingCodes: deps.deviceCodes.pending().map((r) => r.userCode), notice });
      }
    }
  }

  /** HTML for browsers; one plain line for curl and scripts (they do not ask for text/html). */
  private renderPage(exchange: Exchange, status: number, model: PageModel): void {
    const accept = headerValue(exchange.req, 'accept') ?? '';
    if (accept.includes('text/html')) {
      exchange.send(status, renderPage(model), { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      return;
    }
    const line = model.notice ? `${model.notice.title}. ${model.notice.detail}` : `Open ${this.deps.origin}/devicelogin in a browser, or POST user_code=CODE&action=approve|deny[&user=UPN].`;
    exchange.send(status, `${line}\n`, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  }
}
