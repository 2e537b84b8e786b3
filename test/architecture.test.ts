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

/** Every module an import, export or dynamic import() of `file` names: relative ones resolved, packages as named. */
async function specifiersOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? path.resolve(path.dirname(file), s) : s));
}

/** Every relative module an import, export or dynamic import() of `file` names, resolved. */
async function importsOf(file: string): Promise<string[]> {
  return (await specifiersOf(file)).filter((s) => path.isAbsolute(s));
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

/**
 * The composition root (README, "How it is built"): only app/ builds adapters, for the daemon and
 * every command alike, so the commands cannot drift from the daemon's settings. A command names
 * no msal-node, no driver and no other command; what they share is commands/context.ts.
 */
const COMMANDS = path.join(SRC, 'commands');
const SHARED_BY_COMMANDS = path.join(COMMANDS, 'context.ts');
const DRIVERS = ['display/ssd1306/', 'display/png.ts', 'display/terminal.ts', 'button/gpio.ts', 'button/evdev.ts', 'button/keyboard.ts', 'button/index.ts'];

function whyForbiddenInACommand(target: string, file: string): string | undefined {
  if (target === '@azure/msal-node' || target.startsWith('@azure/msal-node/')) return 'msal-node (app/identity-and-graph.ts builds the identity)';
  if (!path.isAbsolute(target)) return undefined;
  const rel = path.relative(SRC, target.replace(/\.js$/, '.ts'));
  if (DRIVERS.some((d) => (d.endsWith('/') ? rel.startsWith(d) : rel === d))) return 'a driver (app/displays.ts, app/buttons.ts build them)';
  if (path.dirname(target) === COMMANDS && target.replace(/\.js$/, '.ts') !== SHARED_BY_COMMANDS && target.replace(/\.js$/, '.ts') !== file) {
    return 'another command (shared plumbing goes in commands/context.ts)';
  }
  return undefined;
}

test('no command imports msal-node, a driver or another command: app/ builds the adapters', async () => {
  const wrong: string[] = [];
  for (const file of await filesUnder(COMMANDS)) {
    for (const target of await specifiersOf(file)) {
      const why = whyForbiddenInACommand(target, file);
      if (why) wrong.push(`${path.relative(SRC, file)} imports ${path.isAbsolute(target) ? path.relative(SRC, target) : target}: ${why}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the command rule is not vacuous: it names what it forbids and lets through what commands share', () => {
  const login = path.join(COMMANDS, 'login.ts');
  assert.ok(whyForbiddenInACommand('@azure/msal-node', login));
  assert.ok(whyForbiddenInACommand(path.join(SRC, 'display/ssd1306/index.js'), login));
  assert.ok(whyForbiddenInACommand(path.join(SRC, 'display/terminal.js'), login));
  assert.ok(whyForbiddenInACommand(path.join(SRC, 'button/gpio.js'), login));
  assert.ok(whyForbiddenInACommand(path.join(COMMANDS, 'status.js'), login));
  assert.equal(whyForbiddenInACommand(SHARED_BY_COMMANDS.replace(/\.ts$/, '.js'), login), undefined);
  assert.equal(whyForbiddenInACommand(path.join(SRC, 'app/displays.js'), login), undefined);
  assert.equal(whyForbiddenInACommand(path.join(SRC, 'display/screen-session.js'), login), undefined);
});
