import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AUTH, BUTTON, CACHE, DEVICE, DISPLAY, GRAPH, GRAPH_JOB, LOG, METRICS, NETWORK, SIGN_IN, readSection, type Section, type Setting } from '../../src/config/settings.js';
import {
  AuthSchema, ButtonSchema, CacheSchema, DeviceSchema, DisplaySchema, GraphJobSchema, GraphSchema, LogSchema, MetricsSchema, NetworkSchema, SignInSchema,
} from '../../src/config/schema.js';
import { ConfigError, loadConfigFile, resolveDisplay } from '../../src/config/index.js';
import { readDisplaySettings } from '../../src/app/early-display.js';

/**
 * settings.ts is where every setting's type, range and default are written; the zod schema and
 * the first frame's reader (which must not load zod) both follow it. These tests fail when any of
 * the three says something else about a setting.
 */

const REPO = path.resolve(import.meta.dirname, '../..');
const SECTIONS: Array<[string, Section, z.ZodObject]> = [
  ['display', DISPLAY, DisplaySchema],
  ['button', BUTTON, ButtonSchema],
  ['network', NETWORK, NetworkSchema],
  ['cache', CACHE, CacheSchema],
  ['log', LOG, LogSchema],
  ['signIn', SIGN_IN, SignInSchema],
  ['graph.jobs[]', GRAPH_JOB, GraphJobSchema],
  ['auth', AUTH, AuthSchema],
  ['metrics', METRICS, MetricsSchema],
  ['device', DEVICE, DeviceSchema],
  ['graph', GRAPH, GraphSchema],
];

/** What the JSON Schema of a setting must say, from its row in settings.ts. */
function expectedJsonSchema(s: Setting): Record<string, unknown> {
  const common = { description: s.doc, ...('default' in s && s.default !== undefined ? { default: s.default } : {}) };
  switch (s.type) {
    // zod's int() is a safe integer, so an integer with no maximum has Number.MAX_SAFE_INTEGER's.
    case 'integer': return { ...common, type: 'integer', minimum: s.min, maximum: s.max ?? Number.MAX_SAFE_INTEGER };
    case 'number': return { ...common, type: 'number', maximum: s.max, ...(s.above !== undefined ? { exclusiveMinimum: s.above } : { minimum: s.min }) };
    case 'boolean': return { ...common, type: 'boolean' };
    case 'enum': return { ...common, type: 'string', enum: [...s.values] };
    case 'choice': return s.values.length === 1 ? { ...common, type: 'number', const: s.values[0] }
      : { ...common, anyOf: s.values.map((v) => ({ type: 'number', const: v })) };
    case 'string': return {
      ...common, type: 'string',
      ...(s.minLength !== undefined ? { minLength: s.minLength } : {}), ...(s.maxLength !== undefined ? { maxLength: s.maxLength } : {}),
    };
  }
}

test('the zod schema has each setting\'s type, range, choices, default and meaning from settings.ts', () => {
  for (const [name, table, schema] of SECTIONS) {
    const json = z.toJSONSchema(schema, { target: 'draft-07', io: 'input' }) as { properties: Record<string, unknown>; required?: string[] };
    for (const [key, setting] of Object.entries(table)) {
      assert.deepEqual(json.properties[key], expectedJsonSchema(setting), `${name}.${key}`);
      assert.ok(!(json.required ?? []).includes(key), `${name}.${key} may be left out`);
    }
  }
});

test('the display and button sections have no setting that settings.ts does not list', () => {
  // The first frame reads only what DISPLAY lists; a setting added to the schema alone would be missed.
  assert.deepEqual(Object.keys(DisplaySchema.shape).sort(), Object.keys(DISPLAY).sort());
  assert.deepEqual(Object.keys(ButtonSchema.shape).sort(), Object.keys(BUTTON).sort());
  for (const [name, table, schema] of SECTIONS.slice(0, 6)) assert.deepEqual(Object.keys(schema.shape).sort(), Object.keys(table).sort(), name);
});

/** Values at and around each setting's edges, and of the wrong types. */
function probes(s: Setting): unknown[] {
  const wrongTypes = [null, '1', 'bogus', true, [], {}, 1.5, 2 ** 53, -1];
  switch (s.type) {
    case 'integer': return [...wrongTypes, s.min, s.min - 1, s.min + 0.5, ...(s.max !== undefined ? [s.max, s.max + 1, s.max - 0.5] : [1e6])];
    case 'number': return [...wrongTypes, s.max, s.max + 0.01, s.above ?? s.min, (s.above ?? s.min!) - 0.01, (s.above ?? s.min!) + 0.01, Infinity];
    case 'boolean': return [...wrongTypes, false, 0];
    case 'enum': return [...wrongTypes, ...s.values, s.values[0].toUpperCase(), ''];
    case 'choice': return [...wrongTypes, ...s.values, s.values[0] + 1, String(s.values[0])];
    case 'string': return [...wrongTypes, '', 'screen.png'];
  }
}

test('the plain reader and the zod schema accept and refuse the same values, with the same defaults', () => {
  for (const [name, table, schema] of SECTIONS.slice(0, 6)) {
    assert.deepEqual(readSection(table, {}), schema.parse({}), `${name}: the defaults`);
    assert.deepEqual(readSection(table, undefined), schema.parse({}), `${name}: a missing section`);
    for (const [key, setting] of Object.entries(table)) {
      for (const value of probes(setting)) {
        const plain = readSection(table, { [key]: value });
        const zod = schema.safeParse({ [key]: value });
        assert.equal(plain !== undefined, zod.success, `${name}.${key} = ${JSON.stringify(value)}: plain ${plain ? 'accepts' : 'refuses'}, zod ${zod.success ? 'accepts' : 'refuses'}`);
        if (zod.success) assert.deepEqual(plain, zod.data, `${name}.${key} = ${JSON.stringify(value)}`);
      }
    }
    for (const section of [null, [], 'display', 3]) {
      assert.equal(readSection(table, section), undefined, `${name}: ${JSON.stringify(section)} is not a section`);
      assert.equal(schema.safeParse(section).success, false);
    }
  }
});

async function writeConfig(dir: string, name: string, body: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(body));
  return file;
}

test('the first frame reads the same display settings as the full loader, for every example in config/', async () => {
  const examples = (await readdir(path.join(REPO, 'config'))).filter((f) => f.endsWith('.example.json'));
  assert.ok(examples.length >= 6, examples.join(', '));
  for (const name of examples) {
    const file = path.join(REPO, 'config', name);
    const early = readDisplaySettings(file);
    assert.ok(early, name);
    assert.deepEqual(resolveDisplay(early, file), loadConfigFile(file, { STATE_DIRECTORY: '/tmp/gda-state' }).display, name);
  }
});

test('the first frame and the full loader agree on edge cases of the display section', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-settings-'));
  const auth = { clientId: '00000000-0000-0000-0000-000000000000' };
  const env = { STATE_DIRECTORY: path.join(dir, 'state') };
  const cases: Record<string, unknown> = {
    'no section': undefined,
    'empty section': {},
    'every setting': { driver: 'png', width: 128, height: 32, pngPath: 'out/screen.png', pngScale: 16, bus: 99, address: 0x77, controller: 'sh1106', contrast: 0, rotate180: true, sleepAfterSec: 0 },
    'a mirror beside the panel': { driver: 'ssd1306', pngPath: '/run/screen.png', address: 61, contrast: 255, sleepAfterSec: 86_400 },
    'a fractional sleep': { driver: 'ssd1306', sleepAfterSec: 0.5 },
  };
  for (const [what, display] of Object.entries(cases)) {
    // The PNG may be written only in the state directory or outputDirectory (config/paths.ts).
    const file = await writeConfig(dir, 'ok.json', display === undefined ? { auth } : { auth, display, outputDirectory: (display as { pngPath?: string }).pngPath?.startsWith('/run') ? '/run' : dir });
    const early = readDisplaySettings(file);
    assert.ok(early, what);
    assert.deepEqual(resolveDisplay(early, file), loadConfigFile(file, env).display, what);
  }
  const refused: Record<string, unknown> = {
    'null': null,
    'a list': [],
    'height 48': { height: 48 },
    'width 132': { width: 132 },
    'address 0x78': { address: 0x78 },
    'bus as text': { bus: '1' },
    'a fractional scale': { pngScale: 2.5 },
    'contrast 256': { contrast: 256 },
    'sleep as text': { sleepAfterSec: '300' },
    'rotate "yes"': { rotate180: 'yes' },
    'driver null': { driver: null },
    'driver "oled"': { driver: 'oled' },
    'a PNG path that is a number': { pngPath: 3 },
  };
  for (const [what, display] of Object.entries(refused)) {
    const file = await writeConfig(dir, 'bad.json', { auth, display });
    assert.equal(readDisplaySettings(file), undefined, what);
    assert.throws(() => loadConfigFile(file, env), ConfigError, what);
  }
  // One difference, on purpose: a misspelt key is the loader's to report, and the first frame
  // still opens the panel so that the report can be shown on it.
  const misspelt = await writeConfig(dir, 'misspelt.json', { auth, display: { driver: 'ssd1306', adress: 61 } });
  assert.throws(() => loadConfigFile(misspelt, env), /display\.adress: unknown setting: did you mean "address"\?/);
  assert.equal(readDisplaySettings(misspelt)?.driver, 'ssd1306');
  assert.equal(readDisplaySettings(path.join(dir, 'missing.json')), undefined);
  await writeFile(path.join(dir, 'broken.json'), '{ "display": ');
  assert.equal(readDisplaySettings(path.join(dir, 'broken.json')), undefined);
});

test('the first frame\'s reader keeps zod and the schema out: nothing it imports loads them', async () => {
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    // Value imports only: `import type` is erased.
    for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      assert.ok(!/^zod(\/|$)/.test(spec), `${path.relative(REPO, file)} imports zod`);
      if (spec.startsWith('.')) await visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  };
  await visit(path.join(REPO, 'src/app/early-display.ts'));
  const loaded = [...seen].map((f) => path.relative(REPO, f));
  assert.ok(loaded.includes('src/config/settings.ts'), loaded.join(', '));
  for (const heavy of ['src/config/schema.ts', 'src/config/load.ts', 'src/config/index.ts']) assert.ok(!loaded.includes(heavy), `${heavy} is loaded: ${loaded.join(', ')}`);
});
