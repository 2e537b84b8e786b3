import { scrubSecrets } from '../net/scrub.js';

/**
 * Reading what Graph (or something pretending to be Graph) answered: JSON or not, Graph's error
 * object, and the permission a path needs, for messages a person can act on.
 */

export type ParsedBody =
  | { json: true; data: unknown }
  /** `contentType` is '' when the server sent none; `malformed` when it claimed JSON and lied. */
  | { json: false; contentType: string; malformed: boolean };

/**
 * Graph always answers JSON. Anything else (an HTML login page of a captive portal, a proxy's
 * error page) must not be mistaken for data or for a Graph error.
 */
export function parseBody(body: string, contentType: string | undefined): ParsedBody {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (body.trim() === '') return { json: true, data: null };
  const saysJson = type === 'application/json' || type.endsWith('+json');
  if (type !== '' && !saysJson) return { json: false, contentType: type, malformed: false };
  try {
    return { json: true, data: JSON.parse(body) as unknown };
  } catch {
    return { json: false, contentType: type, malformed: saysJson };
  }
}

export interface GraphError {
  code?: string;
  message?: string;
  requestId?: string;
}

/**
 * `{"error":{"code","message","innerError":{"request-id",...}}}`. The spec spells `innererror`,
 * the examples `innerError`: both are read. Every string is scrubbed of tokens here, before it is
 * cut to one line: these end up in warnings, `last-graph.json`, job outputs and `run-job --json`.
 */
export function parseGraphError(data: unknown): GraphError | undefined {
  if (!isRecord(data)) return undefined;
  const error = data['error'];
  if (typeof error === 'string') return { code: scrubSecrets(error) };
  if (!isRecord(error)) return undefined;
  const inner = isRecord(error['innerError']) ? error['innerError'] : isRecord(error['innererror']) ? error['innererror'] : undefined;
  const out: GraphError = {};
  if (typeof error['code'] === 'string') out.code = scrubSecrets(error['code']);
  if (typeof error['message'] === 'string') out.message = scrubSecrets(error['message']);
  if (inner && typeof inner['request-id'] === 'string') out.requestId = scrubSecrets(inner['request-id']);
  return out;
}

/** Delegated permissions of the calls a device is likely to make, to name what a 403 lacks. */
const KNOWN_PERMISSIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\/me\/?$/, 'User.Read'],
  [/^\/me\/manager(\/|$)/, 'User.Read.All'],
  [/^\/me\/(directReports|memberOf|transitiveMemberOf)(\/|$)/, 'User.Read.All'],
  // The least privileged ones that still read what a status line needs (subject, counts).
  [/^\/me\/(messages|mailFolders)(\/|$)/, 'Mail.ReadBasic'],
  [/^\/me\/(events|calendar|calendars|calendarView)(\/|$)/, 'Calendars.ReadBasic'],
  [/^\/me\/drive(\/|$)/, 'Files.Read'],
  [/^\/me\/presence(\/|$)/, 'Presence.Read'],
  [/^\/me\/todo(\/|$)/, 'Tasks.Read'],
  [/^\/users(\/|$)/, 'User.Read.All'],
];

/** The delegated permission a Graph path needs, when it is one we know. */
export function permissionFor(path: string): string | undefined {
  const bare = path.split('?')[0] ?? path;
  return KNOWN_PERMISSIONS.find(([pattern]) => pattern.test(bare))?.[1];
}

/** One line, short enough for a log line or a status command; Graph messages may hold newlines. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim().replace(/[.\s]+$/, '');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
