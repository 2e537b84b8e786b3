import { printable } from './response.js';

/**
 * The screen line of a job: `"{displayName}"`, `"Manager: {displayName}"`, `"{value.0.subject}"`.
 *
 * A placeholder is a dotted path into the response: object keys (own properties only, so
 * `{constructor}` finds nothing) and array indexes. A missing field renders as an empty string,
 * because a half-filled line is better than none on a status screen. `{{` and `}}` are literal
 * braces. Nothing is evaluated: the template comes from a config file, the data from the network.
 *
 * A placeholder may end in a format for date-times: `{value.0.start.dateTime|time}` → "10:30",
 * `|date` → "14 Mar", `|day` → "Fri". Graph's calendar times carry no zone (they are in the zone
 * of its `Prefer: outlook.timezone` header, `graph.timeZone`), so they are shown as written;
 * a time with a zone ("…Z", "+01:00") is shown in `timeZone`.
 */

const FORMATS = ['time', 'date', 'day'] as const;
type Format = (typeof FORMATS)[number];

type Piece = { text: string } | { path: string[]; format?: Format };

export interface TemplateOptions {
  /** IANA zone for date-times that carry a zone of their own; the process's zone by default. */
  timeZone?: string;
}

/** Returns an error message for a template the renderer would not read as intended. */
export function validateTemplate(template: string): string | undefined {
  const result = parse(template);
  return typeof result === 'string' ? result : undefined;
}

/**
 * The longest line a template renders: a panel shows some 21 characters of it (the rest is cut
 * with "…"), and the line is also in every `graph.job` log line and `last-graph.json`. A 100 KB
 * displayName must not make a 100 KB log line (journald splits lines over 48 KiB).
 */
export const MAX_LINE_LENGTH = 200;

/**
 * Renders `template` over `data` as one line of at most {@link MAX_LINE_LENGTH} characters:
 * newlines, tabs and control characters in values (an ANSI escape's ESC) become spaces,
 * bidirectional overrides are dropped.
 */
export function renderTemplate(template: string, data: unknown, options: TemplateOptions = {}): string {
  const pieces = parse(template);
  // A broken template is shown as written: the config loader reports it, the screen still works.
  if (typeof pieces === 'string') return template;
  const line = pieces.map((piece) => {
    if ('text' in piece) return piece.text;
    const value = lookup(data, piece.path);
    return piece.format ? formatDateTime(value, piece.format, options) : format(value);
  }).join('');
  return line.length > MAX_LINE_LENGTH ? `${line.slice(0, MAX_LINE_LENGTH - 1)}\u2026` : line;
}

function parse(template: string): Piece[] | string {
  const pieces: Piece[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    const next = template[i + 1];
    if ((ch === '{' && next === '{') || (ch === '}' && next === '}')) {
      text += ch;
      i += 2;
      continue;
    }
    if (ch === '}') return `unmatched "}" at position ${i + 1} of template "${template}" (write "}}" for a literal brace)`;
    if (ch !== '{') {
      text += ch;
      i += 1;
      continue;
    }
    const end = template.indexOf('}', i + 1);
    if (end === -1) return `unclosed "{" at position ${i + 1} of template "${template}" (write "{{" for a literal brace)`;
    const inner = template.slice(i + 1, end).trim();
    if (inner === '' || inner.includes('{')) return `empty or nested placeholder at position ${i + 1} of template "${template}"`;
    const [pathText = '', formatName, ...extra] = inner.split('|').map((part) => part.trim());
    const path = pathText.split('.');
    if (path.some((part) => part === '')) return `placeholder "{${inner}}" has an empty path segment`;
    if (extra.length > 0 || (formatName !== undefined && !(FORMATS as readonly string[]).includes(formatName))) {
      return `placeholder "{${inner}}": the format after "|" is one of ${FORMATS.join(', ')}`;
    }
    if (text) pieces.push({ text });
    text = '';
    pieces.push(formatName === undefined ? { path } : { path, format: formatName as Format });
    i = end + 1;
  }
  if (text) pieces.push({ text });
  return pieces;
}

function lookup(data: unknown, path: readonly string[]): unknown {
  let current = data;
  for (const key of path) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(key)) return undefined;
      current = current[Number(key)];
    } else if (typeof current === 'object' && current !== null && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return current;
}

function format(value: unknown): string {
  if (typeof value === 'string') return printable(value.slice(0, MAX_LINE_LENGTH * 2)).replace(/\s+/gu, ' ').trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // `businessPhones: ["+1 412 555 0109"]` reads naturally as a list.
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return value.map((v) => format(v)).filter((v) => v !== '').join(', ');
  }
  return '';
}

/** Graph's date-times: "2025-03-14T10:30:00.0000000" (a calendar's, no zone) or "2025-03-14T09:30:00Z". */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A date-time as "10:30", "14 Mar" or "Fri"; empty when the value is not one. */
function formatDateTime(value: unknown, as: Format, options: TemplateOptions): string {
  if (typeof value !== 'string') return '';
  const m = DATE_TIME.exec(value.trim());
  if (!m) return '';
  const [, y, mo, d, h = '00', mi = '00', zone] = m;
  // Without a zone the wall time is shown as written: read it as UTC and format in UTC.
  const at = zone ? Date.parse(value.trim()) : Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
  if (Number.isNaN(at)) return '';
  const timeZone = zone ? options.timeZone : 'UTC';
  const zoneOption = timeZone ? { timeZone } : {};
  try {
    switch (as) {
      case 'time':
        return new Intl.DateTimeFormat('en-GB', { ...zoneOption, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
      case 'date':
        return new Intl.DateTimeFormat('en-GB', { ...zoneOption, day: 'numeric', month: 'short' }).format(at);
      case 'day':
        return new Intl.DateTimeFormat('en-GB', { ...zoneOption, weekday: 'short' }).format(at);
    }
  } catch {
    // A Windows zone name (fine for Graph's header) is not one Intl knows: the device's zone then.
    return formatDateTime(value, as, {});
  }
}
