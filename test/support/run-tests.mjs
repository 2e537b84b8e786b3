/**
 * `npm test` (with --long: `npm run test:long`): node:test's runner on the test files, four at a
 * time, those that take longest on the clock first, then the rest by name. `node --test FILES`
 * would sort them by name, and the long files near the end of the alphabet (the soak, the
 * installer) then ran on alone while a core idled; run() keeps the order given.
 *
 *   node --import ./test/support/ts-loader/register.mjs test/support/run-tests.mjs [--long]
 *
 * The test processes inherit this process's node flags (the TypeScript loader).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { transpiled } from './ts-loader/transpile.mjs';

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

/** Every .ts file under `dir` (sources and test helpers alike). */
function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [file] : [];
  });
}

// The loader's cache filled here, once, before the test processes start: on a fresh clone each
// of them would otherwise transpile the same files again, all at the same time.
for (const file of [...tsFiles('src'), ...tsFiles('test')]) transpiled(path.resolve(file));

const all = testFiles('test').sort();
const first = LONGEST_FIRST.filter((f) => all.includes(f));
const files = [...first, ...all.filter((f) => !first.includes(f))].map((f) => path.resolve(f));

// Four at a time on 2 cores: many files spend their time waiting on sockets, timers and child
// processes. Measured (time npm test, 2 cores): three 99 s, four 84-90 s, five 103 s.
const stream = run({ files, concurrency: long ? 1 : 4, timeout: long ? 1_800_000 : 600_000 });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(spec).pipe(process.stdout);
