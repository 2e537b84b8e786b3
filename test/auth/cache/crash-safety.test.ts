import { test } from 'node:test';
import { killWritersAtRandom } from './crash-safety.js';

// 8 kills with a fixed seed: the same moments every run (about half land mid-write). The
// 200-kill run with a new seed each time is crash-safety.long.test.ts (npm run test:long).
test('after SIGKILL at random moments the cache always decrypts to one complete version', { timeout: 120_000 }, async (t) => {
  await killWritersAtRandom(t, 8, 20_240_601);
});
