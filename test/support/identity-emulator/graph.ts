import type { EmulatedUser, UserDirectory } from './users.js';
import { workloadRoutes } from './graph-routes.js';

/**
 * The Microsoft Graph stand-in: a small route table over the emulator's users. Add a path by
 * adding a {@link GraphRoute} (here, in graph-routes.ts, or per emulator through the
 * `graphRoutes` option). The user routes (/me, /me/manager) live here; the calendar, presence and
 * inbox routes in graph-routes.ts.
 */

/** What a route handler gets: the signed-in user, the directory and the query string. */
export interface GraphContext {
  me: EmulatedUser;
  users: UserDirectory;
  query: URLSearchParams;
  /** `${origin}/v1.0`, for `@odata.context` links. */
  baseUrl: string;
  /** Delegated scopes of the access token (without OIDC scopes). */
  scopes: string[];
  /** The request's headers (lower-case names), for `Prefer`. */
  headers?: Readonly<Record<string, string | string[] | undefined>>;
}

export interface GraphReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface GraphRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under /v1.0, exact match, e.g. '/me/manager'. */
  path: string;
  /**
   * Any one of these delegated scopes is enough (checked only with `enforceGraphScopes`; the
   * emulator otherwise grants whatever the client asked for, like an admin-consented tenant).
   */
  anyScope?: string[];
  handle(ctx: GraphContext): GraphReply;
}

/** Graph's error JSON; the emulator fills `innerError` with the request's ids. */
export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

/** A thrown GraphError becomes Graph's error JSON with its status. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export function graphErrorBody(code: string, message: string, ids: { requestId: string; clientRequestId: string; now: number }): GraphErrorBody {
  return {
    error: {
      code,
      message,
      // Graph writes the date without a zone or fraction: "2026-11-28T10:00:00".
      innerError: { date: new Date(ids.now).toISOString().replace(/\.\d+Z$/, ''), 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId },
    },
  };
}

/** The error code Graph uses for a status, for faults injected without a body. */
export function graphCodeForStatus(status: number): string {
  switch (status) {
    case 400: return 'BadRequest';
    case 401: return 'InvalidAuthenticationToken';
    case 403: return 'Authorization_RequestDenied';
    case 404: return 'Request_ResourceNotFound';
    case 429: return 'TooManyRequests';
    case 503: return 'serviceNotAvailable';
    case 504: return 'gatewayTimeout';
    default: return status >= 500 ? 'generalException' : 'BadRequest';
  }
}

/** The properties `/me` and `/users/{id}` return when `$select` is absent. */
export const DEFAULT_USER_PROPERTIES = [
  'businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone',
  'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id',
] as const;

/**
 * A user as Graph returns it: the default property set, or exactly the `$select`ed ones (matched
 * case-insensitively, as Graph does; an unknown name is Graph's 400).
 */
export function userResource(user: EmulatedUser, query: URLSearchParams, context: string): Record<string, unknown> {
  const all: Record<string, unknown> = { ...(user.extra ?? {}) };
  for (const name of DEFAULT_USER_PROPERTIES) all[name] = user[name];
  const select = query.get('$select') ?? query.get('select');
  let names: string[] = [...DEFAULT_USER_PROPERTIES];
  if (select) {
    const byLower = new Map(Object.keys(all).map((k) => [k.toLowerCase(), k]));
    names = select.split(',').map((s) => s.trim()).filter(Boolean).map((requested) => {
      const known = byLower.get(requested.toLowerCase());
      if (!known) throw new GraphError(400, 'BadRequest', `Could not find a property named '${requested}' on type 'microsoft.graph.user'.`);
      return known;
    });
  }
  const out: Record<string, unknown> = { '@odata.context': context };
  for (const name of names) out[name] = all[name] ?? null;
  return out;
}

function selectSuffix(query: URLSearchParams): string {
  const select = query.get('$select');
  return select ? `(${select})` : '';
}

/** /me and /me/manager: the Python sample's calls. */
export const USER_ROUTES: GraphRoute[] = [
  {
    method: 'GET',
    path: '/me',
    anyScope: ['User.Read', 'User.ReadWrite', 'User.Read.All', 'User.ReadBasic.All', 'Directory.Read.All'],
    handle: ({ me, query, baseUrl }) => ({
      status: 200,
      body: userResource(me, query, `${baseUrl}/$metadata#users${selectSuffix(query)}/$entity`),
    }),
  },
  {
    method: 'GET',
    path: '/me/manager',
    anyScope: ['User.Read.All', 'User.ReadBasic.All', 'Directory.Read.All'],
    handle: ({ me, users, query, baseUrl }) => {
      const manager = me.managerId ? users.find(me.managerId) : undefined;
      if (!manager) throw new GraphError(404, 'Request_ResourceNotFound', `Resource 'manager' does not exist or one of its queried reference-property objects are not present.`);
      const body = userResource(manager, query, `${baseUrl}/$metadata#directoryObjects/$entity`);
      return { status: 200, body: { '@odata.context': body['@odata.context'], '@odata.type': '#microsoft.graph.user', ...body } };
    },
  },
];

/** Every route the emulator answers unless told otherwise: users, calendar, presence, inbox. */
export const DEFAULT_GRAPH_ROUTES: GraphRoute[] = [...USER_ROUTES, ...workloadRoutes()];

export { workloadRoutes, defaultWorkload, type EmulatedEvent, type Workload, type WorkloadRoutesOptions } from './graph-routes.js';

/** Scope names without a resource prefix: 'https://graph.microsoft.com/User.Read' → 'User.Read'. */
export function shortScope(scope: string): string {
  return scope.replace(/^https:\/\/graph\.microsoft\.com\//i, '');
}

/** True when the token carries one of the route's scopes (or `.default`, which means all consented). */
export function hasAnyScope(tokenScopes: string[], route: GraphRoute): boolean {
  if (!route.anyScope) return true;
  const held = new Set(tokenScopes.map((s) => shortScope(s).toLowerCase()));
  if (held.has('.default')) return true;
  return route.anyScope.some((s) => held.has(s.toLowerCase()));
}
