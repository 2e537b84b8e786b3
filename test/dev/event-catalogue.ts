import { loggedEvents } from '../support/log-events.js';

/**
 * Prints the README's event catalogue rows from the code (npx tsx test/dev/event-catalogue.ts):
 * event, level, and what its message says. test/log-catalogue.test.ts fails when the README and
 * the code name different events or levels.
 */
const rows = [...loggedEvents().values()].sort((a, b) => a.event.localeCompare(b.event));
for (const e of rows) {
  const message = e.message.replace(/\|/g, '\\|').trim() || '—';
  const fields = [...e.fields].map((f) => `\`${f}\``).join(', ') || '—';
  console.log(`| \`${e.event}\` | ${[...e.levels].join(', ')} | ${fields} | ${message} |`);
}
