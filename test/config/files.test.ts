import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileRefusedError, readRegularFile } from '../../src/config/files.js';

// The buffer is sized by fstat and grown on demand (config/files.ts): the limit must hold the same.
test('readRegularFile reads a file of exactly maxBytes and refuses one byte more', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-files-'));
  const fits = path.join(dir, 'fits');
  const over = path.join(dir, 'over');
  await writeFile(fits, 'x'.repeat(5000));
  await writeFile(over, 'x'.repeat(5001));
  assert.equal(readRegularFile(fits, { maxBytes: 5000 }).data.toString(), 'x'.repeat(5000));
  assert.throws(() => readRegularFile(over, { maxBytes: 5000 }), (err) => err instanceof FileRefusedError && err.refusal === 'too-large');
});

test('readRegularFile reads a file whose stat says 0 bytes (a /proc file) to its end', () => {
  const expected = readFileSync('/proc/self/mounts');
  assert.ok(expected.length > 1, 'longer than the first buffer (size + 1 byte), so the buffer grows');
  const { data, stat } = readRegularFile('/proc/self/mounts', { maxBytes: 1024 * 1024 });
  assert.equal(stat.size, 0);
  // Same process, same mounts: the same bytes.
  assert.deepEqual(data, expected);
});
