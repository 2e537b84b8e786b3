import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The layers of src/ (README, "How it is built"): the adapters under auth/, graph/, display/,
 * button/, service/, config/ and net/, and the utilities they share (files/, retry/), never import
 * the agent, the composition root (app/) or a command. ESLint holds the same rule (eslint.config.js); this test holds it without ESLint.
 */

const SRC = path.resolve(import.meta.dirname, '../src');
const LOWER = ['auth', 'graph', 'display', 'button', 'service', 'config', 'net', 'files', 'retry'];
const UPPER = ['agent', 'app', 'commands'];

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Every relative module an import, export or dynamic import() of `file` names, resolved. */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => path.resolve(path.dirname(file), s));
}

function layerOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

test('no adapter imports the agent, the composition root or a command', async () => {
  const wrong: string[] = [];
  for (const layer of LOWER) {
    for (const file of await filesUnder(path.join(SRC, layer))) {
      for (const target of await importsOf(file)) {
        if (UPPER.includes(layerOf(target))) wrong.push(`${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('the rule is not vacuous: it sees the imports the agent does make', async () => {
  const targets = (await importsOf(path.join(SRC, 'agent/agent.ts'))).map(layerOf);
  assert.ok(targets.includes('auth') && targets.includes('display'), `agent.ts imports ${targets.join(', ')}`);
});
