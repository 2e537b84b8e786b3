/**
 * The files `npm test` (or, with --long, `npm run test:long`) runs, in the order the test runner
 * should start them: those that take longest on the clock first, then the rest by name. The
 * runner keeps three files going at a time; a long file started last would run on alone at the
 * end while the second core idles (on 2 cores that cost `npm test` about 10 s).
 *
 *   node --test $(node test/support/test-files.mjs)
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Measured with `time node --test FILE` (wall clock, 2 cores), longest first: real waits, child processes. */
const LONGEST_FIRST = [
  'test/auth/signin-faults.test.ts',
  'test/app/graph-jobs.test.ts',
  'test/soak/soak.test.ts',
  'test/corpus/configs.test.ts',
  'test/systemd/install.test.ts',
  'test/app/signin.test.ts',
  'test/auth/cache/lock.test.ts',
  'test/app/slow-approval.test.ts',
  'test/service/notify.test.ts',
  'test/app/shutdown.test.ts',
  'test/config/load-in-child.test.ts',
  'test/app/journal.test.ts',
  'test/cli.test.ts',
  'test/commands/cli.test.ts',
  'test/graph/throttle.test.ts',
  'test/corpus/hostile-graph-replies.test.ts',
];

const long = process.argv.includes('--long');

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(file);
    return entry.name.endsWith('.test.ts') && entry.name.endsWith('.long.test.ts') === long ? [file] : [];
  });
}

const all = testFiles('test').sort();
const first = LONGEST_FIRST.filter((f) => all.includes(f));
process.stdout.write(`${[...first, ...all.filter((f) => !first.includes(f))].join('\n')}\n`);
