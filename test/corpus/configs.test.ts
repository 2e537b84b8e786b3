import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { CASES, CORPUS, checkBrokenConfigs } from './configs.js';

test('every file in the corpus has an expectation, and every expectation a file', async () => {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(files, Object.keys(CASES).sort());
  assert.ok(files.length >= 30, `at least 30 broken configurations (there are ${files.length})`);
});

// One mistake of each kind the daemon finds (a wrong type, an unknown key with a "did you mean",
// a URL, and the key file, checked at start); each costs two processes (the daemon and its
// config check). The whole corpus is configs.long.test.ts (npm run test:long).
const SAMPLE = [
  'type-scopes-string.json',
  'unknown-dispaly.json',
  'url-authority-http.json',
  'key-file-group-readable.json',
];

test('a broken configuration of each kind exits 78 with one line naming the field and the fix', { concurrency: 3 }, async (t) => {
  await checkBrokenConfigs(t, SAMPLE);
});
