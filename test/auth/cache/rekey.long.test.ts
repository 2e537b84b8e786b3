import { test } from 'node:test';
import { killRekeyAtRandom } from './rekey-kills.js';

test('rekey killed at 25 random moments never leaves a cache that neither key opens; the next rekey finishes the job', { timeout: 600_000 }, async (t) => {
  await killRekeyAtRandom(t, 25);
});
