import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { configJsonSchema, configJsonSchemaText } from '../../src/config/json-schema.js';
import { loadConfigFile } from '../../src/config/index.js';

/**
 * config/schema.json is what editors check config.json against: it must be the zod schema's,
 * today's (`npm run schema` writes it), and every example in config/ must point at it and load.
 */

const CONFIG_DIR = path.resolve(import.meta.dirname, '../../config');

test('config/schema.json is the one generated from the schema: run `npm run schema` after changing a setting', async () => {
  const published = await readFile(path.join(CONFIG_DIR, 'schema.json'), 'utf8');
  assert.equal(published, configJsonSchemaText(), 'config/schema.json is stale: run `npm run schema`');
});

interface Node {
  type?: string;
  properties?: Record<string, Node>;
  additionalProperties?: boolean;
  items?: Node;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Node[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  required?: string[];
}

/** What the JSON Schema says is wrong with `value` (the keywords config/schema.json uses). */
function violations(node: Node, value: unknown, at: string): string[] {
  if (node.anyOf && node.anyOf.every((n) => violations(n, value, at).length > 0)) return [`${at}: matches none of anyOf`];
  const out: string[] = [];
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value;
  if (node.type && node.type !== type && !(node.type === 'number' && type === 'integer')) return [`${at}: ${type}, expected ${node.type}`];
  if (node.enum && !node.enum.includes(value)) out.push(`${at}: not one of ${JSON.stringify(node.enum)}`);
  if (node.const !== undefined && node.const !== value) out.push(`${at}: not ${JSON.stringify(node.const)}`);
  if (typeof value === 'number') {
    if (node.minimum !== undefined && value < node.minimum) out.push(`${at}: below ${node.minimum}`);
    if (node.maximum !== undefined && value > node.maximum) out.push(`${at}: above ${node.maximum}`);
    if (node.exclusiveMinimum !== undefined && value <= node.exclusiveMinimum) out.push(`${at}: not above ${node.exclusiveMinimum}`);
  }
  if (typeof value === 'string' && node.pattern && !new RegExp(node.pattern, 'u').test(value)) out.push(`${at}: does not match ${node.pattern}`);
  if (Array.isArray(value) && node.items) value.forEach((v, i) => out.push(...violations(node.items!, v, `${at}[${i}]`)));
  if (type === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of node.required ?? []) if (!(key in object)) out.push(`${at}.${key}: missing`);
    for (const [key, v] of Object.entries(object)) {
      const child = node.properties?.[key];
      if (child) out.push(...violations(child, v, `${at}.${key}`));
      else if (node.additionalProperties === false) out.push(`${at}.${key}: not in the schema`);
    }
  }
  return out;
}

test('every example in config/ points at schema.json, passes it, and loads', async () => {
  const schema = configJsonSchema() as Node;
  const examples = (await readdir(CONFIG_DIR)).filter((f) => f.endsWith('.example.json'));
  assert.ok(examples.includes('config.example.json') && examples.includes('parameters.example.json'), examples.join(', '));
  for (const name of examples) {
    const file = path.join(CONFIG_DIR, name);
    const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    assert.equal(Object.keys(raw)[0], '$schema', `${name} starts with "$schema"`);
    assert.equal(raw.$schema, './schema.json', name);
    assert.deepEqual(violations(schema, raw, name), []);
    assert.doesNotThrow(() => loadConfigFile(file, { STATE_DIRECTORY: '/tmp/gda-state' }), name);
  }
});

test('the published schema flags what the loader refuses, and needs a client id in either style', () => {
  const schema = configJsonSchema() as Node;
  const auth = { clientId: 'x' };
  assert.deepEqual(violations(schema, { auth }, 'ok'), []);
  assert.deepEqual(violations(schema, { client_id: 'x', scope: 'User.Read' }, 'sample'), []);
  assert.ok(violations(schema, { auth, display: { height: 48 } }, 'c').length > 0, 'display.height 48');
  assert.ok(violations(schema, { auth, display: { adress: 61 } }, 'c').length > 0, 'a misspelt key');
  assert.ok(violations(schema, { auth, button: { holdTimeMs: 50 } }, 'c').length > 0, 'button.holdTimeMs 50');
  assert.ok(violations(schema, { auth, auth_: {} }, 'c').length > 0, 'an unknown section');
  assert.ok(violations(schema, { auth: { authority: 'http://login.example.com/x', clientId: 'x' } }, 'c').length > 0, 'an http authority');
  assert.ok(violations(schema, { display: {} }, 'c').length > 0, 'no client id at all');
  assert.ok(violations(schema, { auth: { scopes: ['User.Read'] } }, 'c').length > 0, 'auth without clientId');
});
