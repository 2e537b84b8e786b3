import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The log events the code writes, read from src/: every `{ event: 'name', ... }` handed to a
 * logger, with the levels it is logged at (a level chosen at run time is read as every level it
 * could be, from the `const level = ... ? 'info' : 'warn'` next to it, else "varies").
 * README.md's event catalogue is checked against this (test/log-catalogue.test.ts) and generated
 * from it (npx tsx test/dev/event-catalogue.ts).
 */

export const SRC = path.resolve(import.meta.dirname, '../../src');
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export interface LoggedEvent {
  event: string;
  levels: Set<string>;
  /** Where it is logged, `file:line`. */
  places: string[];
  /** The first message text written with it, for the catalogue's "what it says" column. */
  message: string;
  /** The fields logged with it (besides level, time, name, msg). */
  fields: Set<string>;
}

/** The top-level keys of the object literal that starts right after `event: '...'`. */
function fieldsAfter(text: string): string[] {
  let depth = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') {
      if (depth === 0) break;
      depth--;
    }
  }
  const body = text.slice(0, i);
  const keys: string[] = [];
  depth = 0;
  let start = 0;
  for (let j = 0; j <= body.length; j++) {
    const c = body[j];
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    if ((c === ',' && depth === 0) || j === body.length) {
      const part = body.slice(start, j).trim();
      const key = /^([a-z][a-z0-9_]*)\s*(:|$)/.exec(part)?.[1];
      if (key) keys.push(key);
      start = j + 1;
    }
  }
  return keys;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? files(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

export function loggedEvents(): Map<string, LoggedEvent> {
  const events = new Map<string, LoggedEvent>();
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/event: '([a-z0-9_.]+)'/g)) {
      const at = m.index;
      const before = text.slice(Math.max(0, at - 220), at);
      // Notifications (src/notify) name their events the same way; they are not log lines.
      if (/(emit|notify)\(\{\s*$/.test(before) || /\|\s*\{\s*$/.test(before)) continue;
      const call = /\.(trace|debug|info|warn|error|fatal)\(\s*\{?\s*(\.\.\.\w+,\s*)?$|\[(\w+)\]\(\s*\{\s*$|(const (fields|line) = \{\s*)$/.exec(before);
      if (!call) continue;
      let levels: string[];
      if (call[1]) levels = [call[1]];
      else {
        // A level chosen at run time: the literal levels in the statement that chose it.
        const chosen = /const level[^;]*;/s.exec(text.slice(Math.max(0, at - 1200), at))?.[0] ?? '';
        const found = LEVELS.filter((l) => chosen.includes(`'${l}'`));
        const near = text.slice(at, at + 600);
        const used = LEVELS.filter((l) => new RegExp(`\\.${l}\\((fields|line)`).test(near) || new RegExp(`\\.${l}\\(\\{ ?\\.\\.\\.fields`).test(near));
        levels = found.length > 0 ? found : used.length > 0 ? used : ['varies'];
      }
      const line = text.slice(0, at).split('\n').length;
      const after = text.slice(at, at + 400);
      const message = /\},\s*\n?\s*(['`"])((?:(?!\1).)*)\1/s.exec(after)?.[2]?.replace(/\$\{[^}]*\}/g, '…').replace(/\s+/g, ' ') ?? '';
      const entry = events.get(m[1]!) ?? { event: m[1]!, levels: new Set<string>(), places: [], message, fields: new Set<string>() };
      for (const f of fieldsAfter(text.slice(at + m[0].length))) entry.fields.add(f);
      for (const l of levels) entry.levels.add(l);
      entry.places.push(`${path.relative(SRC, file)}:${line}`);
      if (!entry.message) entry.message = message;
      events.set(m[1]!, entry);
    }
  }
  return events;
}

/** The catalogue in README.md: event name → the levels its row gives. */
export function catalogueIn(readme: string): Map<string, Set<string>> {
  const start = readme.indexOf('### Event catalogue');
  if (start < 0) return new Map();
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1]?.startsWith('`')) continue;
    const names = [...cells[1].matchAll(/`([a-z0-9_.]+)`/g)].map((x) => x[1]!);
    const levels = new Set([...cells[2]!.matchAll(/[a-z]+/g)].map((x) => x[0]));
    for (const n of names) rows.set(n, levels);
  }
  return rows;
}
