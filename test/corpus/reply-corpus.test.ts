import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MALFORMATIONS, PLACES } from './replies.js';
import { CLAMPED, REFUSED } from './hostile-device-codes.js';
import { GRAPH_REPLY_CASES } from './hostile-graph-replies.js';

/**
 * Issue 13: the project's own corpora hold at least 60 malformed or hostile replies, identity and
 * Graph. Counted from the tables the tests run (each entry is one test in npm test or
 * npm run test:long), not from a number written here: a case removed from a table lowers it.
 */
test('the malformed and hostile reply corpora hold at least 60 replies, from both identity and Graph', () => {
  const counts = {
    'malformed replies at every place (replies.ts, the long run)': MALFORMATIONS.length * PLACES.length,
    'hostile device code replies, refused (hostile-device-codes.ts)': REFUSED.length,
    'hostile device code replies, clamped (hostile-device-codes.ts)': CLAMPED.length,
    'hostile Graph replies (hostile-graph-replies.ts)': GRAPH_REPLY_CASES.length,
  };
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  assert.ok(total >= 60, `at least 60 malformed or hostile replies, there are ${total}: ${JSON.stringify(counts)}`);
  assert.ok(GRAPH_REPLY_CASES.length >= 12, 'at least 12 hostile Graph replies');
  // Names are unique: each is its own test.
  assert.equal(new Set(GRAPH_REPLY_CASES.map((c) => c.name)).size, GRAPH_REPLY_CASES.length);
  assert.equal(new Set(REFUSED.map(([what]) => what)).size, REFUSED.length);
});
