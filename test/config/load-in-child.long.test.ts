import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { assertSameInChild } from './same-in-child.js';

test('the child process gives the daemon the same configuration as checking in-process, for every example', async () => {
  const examples = (await readdir(path.resolve(import.meta.dirname, '../../config'))).filter((f) => f.endsWith('.example.json'));
  assert.ok(examples.length >= 5);
  await assertSameInChild(examples);
});
