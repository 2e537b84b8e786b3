/**
 * The screen line of a job: `"{displayName}"`, `"Manager: {displayName}"`, `"{value.0.subject}"`.
 *
 * A placeholder is a dotted path into the response: object keys (own properties only, so
 * `{constructor}` finds nothing) and array indexes. A missing field renders as an empty string,
 * because a half-filled line is better than none on a status screen. `{{` and `}}` are literal
 * braces. Nothing is evaluated: the template comes from a config file, the data from the network.
 */

type Piece = { text: string } | { path: string[] };

/** Returns an error message for a template the renderer would not read as intended. */
export function validateTemplate(template: string): string | undefined {
  const result = parse(template);
  return typeof result === 'string' ? result : undefined;
}

/** Renders `template` over `data` as one line (newlines and tabs in values become spaces). */
export function renderTemplate(template: string, data: unknown): string {
  const pieces = parse(template);
  // A broken template is shown as written: the config loader reports it, the screen still works.
  if (typeof pieces === 'string') return template;
  return pieces.map((piece) => ('text' in piece ? piece.text : format(lookup(data, piece.path)))).join('');
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
    const path = inner.split('.');
    if (path.some((part) => part === '')) return `placeholder "{${inner}}" has an empty path segment`;
    if (text) pieces.push({ text });
    text = '';
    pieces.push({ path });
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
  if (typeof value === 'string') return value.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // `businessPhones: ["+1 412 555 0109"]` reads naturally as a list.
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return value.map((v) => format(v)).filter((v) => v !== '').join(', ');
  }
  return '';
}
