import { scrubSecrets } from '../net/scrub.js';

/**
 * Reading what Graph (or something pretending to be Graph) answered: JSON or not, Graph's error
 * object, and the permission a path needs, for messages a person can act on.
 */

export type ParsedBody =
  | { json: true; data: unknown }
  /**
   * `contentType` is '' when the server sent none; `malformed` when it claimed JSON and lied;
   * `encoding` when the body came compressed (the agent asks for none); `tooDeep` when it nests
   * deeper than {@link MAX_JSON_DEPTH}.
   */
  | { json: false; contentType: string; malformed: boolean; encoding?: string; tooDeep?: boolean };

/**
 * How deep Graph's JSON may nest. Graph's answers are a few levels deep (an entity, a collection's
 * `value`, an `$expand`); a body of 4 MB could nest two million deep, which JSON.parse reads in a
 * second of blocked event loop and tens of megabytes, and JSON.stringify (an `outputFile`) cannot
 * write back at all (the stack overflows).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Graph always answers JSON. Anything else (an HTML login page of a captive portal, a proxy's
 * error page, a compressed body nobody asked for, JSON nested absurdly deep) must not be mistaken
 * for data or for a Graph error.
 */
export function parseBody(body: string, contentType: string | undefined, contentEncoding?: string): ParsedBody {
  const type = printable((contentType ?? '').split(';')[0] ?? '').trim().toLowerCase().slice(0, 100);
  const encoding = printable(contentEncoding ?? '').trim().toLowerCase().slice(0, 40);
  // The agent sends no Accept-Encoding, and the HTTPS client decompresses nothing.
  if (encoding !== '' && encoding !== 'identity') return { json: false, contentType: type, malformed: false, encoding };
  if (body.trim() === '') return { json: true, data: null };
  const saysJson = type === 'application/json' || type.endsWith('+json');
  if (type !== '' && !saysJson) return { json: false, contentType: type, malformed: false };
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) return { json: false, contentType: type, malformed: false, tooDeep: true };
  try {
    return { json: true, data: JSON.parse(body) as unknown };
  } catch {
    return { json: false, contentType: type, malformed: saysJson };
  }
}

/** True when the JSON text opens more than `max` arrays or objects at once (strings skipped). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
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
  if (typeof error === 'string') return { code: oneLine(scrubSecrets(error), 100) };
  if (!isRecord(error)) return undefined;
  const inner = isRecord(error['innerError']) ? error['innerError'] : isRecord(error['innererror']) ? error['innererror'] : undefined;
  const out: GraphError = {};
  // A code and a request id are short words; a server may send anything (100 KB, escapes).
  if (typeof error['code'] === 'string') out.code = oneLine(scrubSecrets(error['code']), 100);
  if (typeof error['message'] === 'string') out.message = scrubSecrets(error['message']);
  if (inner && typeof inner['request-id'] === 'string') out.requestId = oneLine(scrubSecrets(inner['request-id']), 100);
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
  const flat = printable(text).replace(/\s+/g, ' ').trim().replace(/[.\s]+$/, '');
  return flat.length > max ? `${flat.slice(0, max - 1)}\u2026` : flat;
}

/** Bidirectional formatting characters: they reorder what a terminal or a log viewer shows (Trojan Source). */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Server text made safe to show: control characters (C0, DEL, C1: ANSI escape sequences start
 * with ESC or CSI) become spaces, bidirectional overrides are dropped. For the screen, the log's
 * messages and what `status` prints to a terminal.
 */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, ' ').replace(BIDI_CONTROLS, '');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
