import { test } from 'node:test';
import { killWritersAtRandom } from './crash-safety.js';

// 12 kills with a fixed seed: the same moments every run (about half land mid-write; with 8, a
// slow machine once had none mid-write). The
// 200-kill run with a new seed each time is crash-safety.long.test.ts (npm run test:long).
test('after SIGKILL at random moments the cache always decrypts to one complete version', { timeout: 120_000 }, async (t) => {
  await killWritersAtRandom(t, 12, 20_240_601);
});
