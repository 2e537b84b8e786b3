import { test } from 'node:test';
import { CASES, checkBrokenConfigs } from './configs.js';

test('each broken configuration exits 78 with one line naming the field and the fix', { concurrency: 3 }, async (t) => {
  await checkBrokenConfigs(t, Object.keys(CASES));
});
