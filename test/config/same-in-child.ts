import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfigInChild } from '../../src/config/load-in-child.js';
import { loadConfigFile } from '../../src/config/index.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const ENV = { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home' };

/**
 * The child gives the daemon what checking in-process gives, for these files of config/:
 * load-in-child.test.ts checks the Python sample's and the fullest, load-in-child.long.test.ts
 * every example (npm run test:long).
 */
export async function assertSameInChild(names: string[]): Promise<void> {
  for (const name of names) {
    const file = path.join(REPO, 'config', name);
    const env = { ...ENV, STATE_DIRECTORY: '/var/lib/graph-device-agent' };
    const inChild = await loadConfigInChild(file, env);
    // The in-process result through JSON, as the child sends it: no undefined fields.
    assert.deepEqual(inChild, JSON.parse(JSON.stringify(loadConfigFile(file, env))), name);
    assert.equal(inChild.cache.path, '/var/lib/graph-device-agent/token-cache.bin', `${name}: the child saw the environment`);
  }
}

