import { test } from 'node:test';
import { killWritersAtRandom } from './crash-safety.js';

test('after SIGKILL at 200 random moments the cache always decrypts to one complete version', { timeout: 600_000 }, async (t) => {
  await killWritersAtRandom(t, 200, Date.now() % 2 ** 31);
});
