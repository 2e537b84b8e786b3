import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.js';
import { isJournalStream, journaldDestination } from '../../src/log-journald.js';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A file standing in for the journal's stream: what matters is the device:inode pair. */
async function withStream(fn: (fd: number, file: string, journalStream: string) => Promise<void> | void): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'journald-'));
  const file = path.join(dir, 'stdout');
  const fd = openSync(file, 'w');
  try {
    const stat = fstatSync(fd, { bigint: true });
    await fn(fd, file, `${stat.dev}:${stat.ino}`);
  } finally {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
}

test('when fd is the announced journal stream, every line gets its syslog priority prefix', async () => {
  await withStream((fd, file, journalStream) => {
    const destination = journaldDestination({ JOURNAL_STREAM: journalStream }, fd);
    assert.ok(destination, 'expected a destination for the journal');
    const log = createLogger({ level: 'trace', destination });
    log.trace({ event: 't' }, 'trace');
    log.debug({ event: 'd' }, 'debug');
    log.info({ event: 'i' }, 'info');
    log.warn({ event: 'w' }, 'warn');
    log.error({ event: 'e' }, 'error');
    log.fatal({ event: 'f' }, 'fatal');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.slice(0, 3)), ['<7>', '<7>', '<6>', '<4>', '<3>', '<2>']);
    // After the prefix (which journald strips) the line is the same JSON as ever.
    const parsed = lines.map((l) => JSON.parse(l.slice(3)) as { level: string; event: string });
    assert.deepEqual(parsed.map((p) => [p.level, p.event]), [
      ['trace', 't'], ['debug', 'd'], ['info', 'i'], ['warn', 'w'], ['error', 'e'], ['fatal', 'f'],
    ]);
  });
});

test('lines below the logger level are still dropped, and each line is written once', async () => {
  await withStream((fd, file, journalStream) => {
    const log = createLogger({ level: 'info', destination: journaldDestination({ JOURNAL_STREAM: journalStream }, fd) });
    log.debug({ event: 'd' }, 'hidden');
    log.warn({ event: 'w' }, 'shown');
    assert.deepEqual(readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.slice(0, 3)), ['<4>']);
  });
});

test('no prefixes when stdout is something else: unset, malformed, or another stream', async () => {
  await withStream((fd, _file, journalStream) => {
    assert.equal(journaldDestination({}, fd), undefined);
    assert.equal(journaldDestination({ JOURNAL_STREAM: 'garbage' }, fd), undefined);
    const [dev, ino] = journalStream.split(':');
    assert.equal(journaldDestination({ JOURNAL_STREAM: `${dev}:${BigInt(ino!) + 1n}` }, fd), undefined);
    // A redirect (`graph-device-agent run | jq`) keeps JOURNAL_STREAM but changes fd 1.
    assert.equal(isJournalStream({ JOURNAL_STREAM: journalStream }, 99_999), false);
  });
});

test('a process whose stdout is the announced stream prefixes its lines (fd 1 by default)', async () => {
  await withStream((fd, file, journalStream) => {
    const script = [
      "import { createLogger } from './src/log.ts';",
      "import { journaldDestination } from './src/log-journald.ts';",
      'const destination = journaldDestination();',
      "if (!destination) throw new Error('stdout not recognised as the journal');",
      "const log = createLogger({ destination });",
      "log.error({ event: 'x.failed' }, 'went wrong');",
      "log.info({ event: 'x.ok' }, 'fine');",
    ].join('\n');
    const result = spawnSync(process.execPath, [...typescriptNodeFlags(), '--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, JOURNAL_STREAM: journalStream },
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.slice(0, 3)), ['<3>', '<6>']);
  });
});
