import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { envVariableFor, overridableFields } from '../../src/config/env-overrides.js';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const CLIENT_ID = 'd1f4e3c2-1111-2222-3333-444455556666';

/** For every field: the variable's text, and what the loaded config must then hold (the text, parsed, unless given). */
function samples(dir: string): Record<string, { text: string; expect?: unknown }> {
  return {
    'auth.clientId': { text: 'from-env-1234' },
    'auth.authority': { text: 'https://login.microsoftonline.com/contoso.onmicrosoft.com' },
    'auth.scopes': { text: '["User.Read","Calendars.ReadBasic"]', expect: ['User.Read', 'Calendars.ReadBasic'] },
    'auth.knownAuthorities': { text: '["login.example.com"]', expect: ['login.example.com'] },
    'auth.protocolMode': { text: 'OIDC' },
    'auth.azureCloudOptions': { text: '{"azureCloudInstance":"https://login.microsoftonline.us","tenant":"contoso"}', expect: { azureCloudInstance: 'https://login.microsoftonline.us', tenant: 'contoso' } },
    'auth.cloudDiscoveryMetadata': { text: '{"tenant_discovery_endpoint":"x"}' },
    'auth.authorityMetadata': { text: '{"issuer":"x"}' },
    'graph.baseUrl': { text: 'https://graph.microsoft.us/v1.0' },
    'graph.jobs': { text: '[{"name":"me","schedule":"*/5 * * * *","path":"/me"}]', expect: [{ name: 'me', schedule: '*/5 * * * *', path: '/me', timeoutSec: 30 }] },
    'graph.splay': { text: '120', expect: 120 },
    'graph.allowedHosts': { text: '["graph.example.com:8443"]', expect: ['graph.example.com:8443'] },
    'graph.timeZone': { text: 'Europe/Berlin' },
    'network.caFile': { text: path.join(dir, 'ca.pem') },
    'network.timeoutSec': { text: '12.5', expect: 12.5 },
    'cache.path': { text: path.join(dir, 'cache.bin') },
    'cache.keyFile': { text: path.join(dir, 'cache.key') },
    'display.driver': { text: 'ssd1306' },
    'display.width': { text: '128', expect: 128 },
    'display.height': { text: '32', expect: 32 },
    'display.pngPath': { text: path.join(dir, 'screen.png') },
    'display.pngScale': { text: '2', expect: 2 },
    'display.bus': { text: '3', expect: 3 },
    'display.address': { text: '61', expect: 61 },
    'display.controller': { text: 'sh1106' },
    'display.contrast': { text: '200', expect: 200 },
    'display.rotate180': { text: 'true', expect: true },
    'display.sleepAfterSec': { text: '0', expect: 0 },
    'button.driver': { text: 'gpio' },
    'button.bcmPin': { text: '27', expect: 27 },
    'button.sysfsPin': { text: '539', expect: 539 },
    'button.activeLow': { text: 'false', expect: false },
    'button.bounceTimeMs': { text: '50', expect: 50 },
    'button.holdTimeMs': { text: '3000', expect: 3000 },
    'button.confirmTimeoutMs': { text: '20000', expect: 20000 },
    'button.evdevName': { text: 'front-button' },
    'button.evdevKeycode': { text: '257', expect: 257 },
    'device.label': { text: 'kiosk-3' },
    'notify.targets': { text: '[{"type":"ntfy","url":"https://ntfy.example.net/devices"}]', expect: [{ type: 'ntfy', url: 'https://ntfy.example.net/devices' }] },
    'notify.includeUserCode': { text: 'true', expect: true },
    'notify.graphFailingAfterMin': { text: '45', expect: 45 },
    'notify.refreshAgeWarnDays': { text: '30', expect: 30 },
    'notify.timeoutSec': { text: '5', expect: 5 },
    'notify.queueSize': { text: '7', expect: 7 },
    'log.level': { text: 'debug' },
    'signIn.autoRenewCodes': { text: '5', expect: 5 },
    'signIn.minPollIntervalSec': { text: '2', expect: 2 },
    'signIn.offlineRetryMaxSec': { text: '60', expect: 60 },
    'metrics.textfileDirectory': { text: '/var/lib/prometheus/node-exporter' },
    'metrics.includeAccount': { text: 'true', expect: true },
    'metrics.minIntervalSec': { text: '30', expect: 30 },
    stateDirectory: { text: path.join(dir, 'state') },
    outputDirectory: { text: path.join(dir, 'out') },
  };
}

function get(config: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], config);
}

test('the naming rule: GDA_, sections and keys split by a double underscore, SCREAMING_SNAKE for camelCase', () => {
  assert.equal(envVariableFor(['auth', 'clientId']), 'GDA_AUTH__CLIENT_ID');
  assert.equal(envVariableFor(['signIn', 'autoRenewCodes']), 'GDA_SIGN_IN__AUTO_RENEW_CODES');
  assert.equal(envVariableFor(['display', 'rotate180']), 'GDA_DISPLAY__ROTATE180');
  assert.equal(envVariableFor(['metrics', 'textfileDirectory']), 'GDA_METRICS__TEXTFILE_DIRECTORY');
  assert.equal(envVariableFor(['stateDirectory']), 'GDA_STATE_DIRECTORY');
});

test('every field of the configuration can be set by its variable, over the file', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const table = samples(dir);
  const fields = overridableFields().map((p) => p.join('.'));
  assert.deepEqual(Object.keys(table).sort(), [...fields].sort(), 'a sample for every field (a new setting needs a row here)');
  for (const field of fields) {
    const { text, expect } = table[field]!;
    const variable = envVariableFor(field.split('.'));
    const file = { auth: { clientId: CLIENT_ID, authority: 'https://login.microsoftonline.com/organizations' }, display: { driver: 'none' }, log: { level: 'warn' }, stateDirectory: dir };
    const config = parseConfig(file, { file: path.join(dir, 'config.json'), env: { [variable]: text } });
    assert.deepEqual(get(config, field), expect ?? text, `${variable} → ${field}`);
  }
});

test('a variable wins over the file, also over the Python sample\'s client_id; other fields stay as the file says', () => {
  const config = parseConfig({ client_id: 'from-file', display: { driver: 'none', height: 32 } }, { env: { GDA_AUTH__CLIENT_ID: 'from-env', GDA_DISPLAY__BUS: '4' } });
  assert.equal(config.auth.clientId, 'from-env');
  assert.equal(config.display.bus, 4);
  assert.equal(config.display.height, 32);
});

test('a bad value names the variable and the field; an unknown GDA_ variable is refused with a suggestion', () => {
  const err = (() => {
    try {
      parseConfig({ auth: { clientId: CLIENT_ID } }, { env: { GDA_DISPLAY__HEIGHT: '48', GDA_GRAPH__SPLAY: 'soon', GDA_SIGN_IN__AUTO_RENEW: '2', GDA_AUTH__SCOPES: 'User.Read' } });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof ConfigError);
  const text = err.problems.join('\n');
  assert.match(text, /GDA_DISPLAY__HEIGHT → display\.height: 48 is not valid.*use 64/);
  assert.match(text, /GDA_GRAPH__SPLAY → graph\.splay: "soon" is not valid.*"auto", "off"/);
  assert.match(text, /GDA_SIGN_IN__AUTO_RENEW → signIn\.autoRenew: not a setting: did you mean GDA_SIGN_IN__AUTO_RENEW_CODES \(signIn\.autoRenewCodes\)\?/);
  assert.match(text, /GDA_AUTH__SCOPES → auth\.scopes: is "User\.Read", expected array/);
  assert.equal(err.exitCode, 78);
});

test('check-config exits 78 on a bad variable, and otherwise shows where each value came from', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ auth: { clientId: CLIENT_ID }, display: { driver: 'none' } }));
  const cli = (env: Record<string, string>) => spawnSync(process.execPath, [...typescriptNodeFlags(), 'src/cli.ts', 'check-config', '--config', file], {
    cwd: REPO, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, ...env },
  });
  const bad = cli({ GDA_BUTTON__BCM_PIN: '99' });
  assert.equal(bad.status, 78, bad.stderr);
  assert.match(bad.stderr, /GDA_BUTTON__BCM_PIN → button\.bcmPin: 99/);

  const good = cli({ GDA_GRAPH__SPLAY: 'off', GDA_LOG__LEVEL: 'debug' });
  assert.equal(good.status, 0, good.stderr);
  const sources = new Map(good.stdout.split('where each value comes from:\n')[1]!.trim().split('\n').slice(0, -1)
    .map((line) => line.trim().split(/\s+/) as [string, string]));
  assert.equal(sources.get('auth.clientId'), 'file');
  assert.equal(sources.get('display.driver'), 'file');
  assert.equal(sources.get('graph.splay'), 'GDA_GRAPH__SPLAY');
  assert.equal(sources.get('log.level'), 'GDA_LOG__LEVEL');
  assert.equal(sources.get('display.height'), 'default');
});
