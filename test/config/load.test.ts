import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigFile, parseConfig, ConfigError, EXIT_CONFIG } from '../../src/config/index.js';

const CLIENT = 'd1f4e3c2-1111-2222-3333-444455556666';

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, { env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.exitCode, EXIT_CONFIG);
    return err.problems;
  }
  assert.fail('the configuration was accepted');
}

test('a minimal config gets the sample\'s defaults: organizations authority, User.Read, /me and manager', () => {
  const config = parseConfig({ auth: { clientId: CLIENT } }, { env: {} });
  assert.equal(config.auth.authority, 'https://login.microsoftonline.com/organizations');
  assert.deepEqual(config.auth.scopes, ['User.Read']);
  assert.equal(config.graph.baseUrl, 'https://graph.microsoft.com/v1.0');
  assert.equal(config.display.height, 64);
});

test('the Python sample\'s parameters.json keeps working', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-config-'));
  const file = path.join(dir, 'parameters.json');
  await writeFile(file, JSON.stringify({
    authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com',
    client_id: CLIENT,
    scope: ['User.Read'],
    endpoint: 'https://graph.microsoft.com/v1.0/me',
  }));
  const config = loadConfigFile(file, {});
  assert.equal(config.auth.clientId, CLIENT);
  assert.equal(config.auth.authority, 'https://login.microsoftonline.com/contoso.onmicrosoft.com');
  assert.deepEqual(config.auth.scopes, ['User.Read']);
  assert.equal(config.graph.baseUrl, 'https://graph.microsoft.com/v1.0');
});

test('the Python sample\'s endpoint becomes a Graph job next to the user and manager', () => {
  const config = parseConfig({ client_id: CLIENT, endpoint: 'https://graph.microsoft.us/v1.0/users' }, { env: {} });
  assert.equal(config.graph.baseUrl, 'https://graph.microsoft.us/v1.0');
  assert.deepEqual(config.graph.jobs?.map((j) => j.path), ['/me', '/me/manager', '/users']);
});

test('a misspelt key names the field and suggests the right one', () => {
  assert.deepEqual(problems({ clientid: CLIENT }), [
    'auth: is missing: add an "auth" section with at least "clientId" (or the Python sample\'s "client_id")',
    'clientid: unknown setting: did you mean "client_id"?',
  ]);
  assert.deepEqual(problems({ auth: { clientId: CLIENT, scope: ['User.Read'] } }), ['auth.scope: unknown setting: did you mean "scopes"?']);
});

test('a wrong type names the field, the bad value and the fix', () => {
  const [line] = problems({ auth: { clientId: CLIENT, scopes: 'User.Read' } });
  assert.equal(line, 'auth.scopes: is "User.Read", expected array: list Graph permissions, e.g. ["User.Read"]');
});

test('a plain-HTTP authority is refused (msal-node needs HTTPS; TLS is never turned off)', () => {
  const [line] = problems({ auth: { clientId: CLIENT, authority: 'http://login.example/tenant' } });
  assert.match(line!, /^auth\.authority: "http:\/\/login\.example\/tenant" is not valid \(expected an https:\/\/ URL\)/);
});

test('a non-Microsoft authority must be listed in knownAuthorities', () => {
  const [line] = problems({ auth: { clientId: CLIENT, authority: 'https://idp.example:8443/tenant' } });
  assert.equal(line, 'auth.knownAuthorities: the authority host idp.example:8443 is not a Microsoft login host, so msal-node will refuse it: add "idp.example:8443" to auth.knownAuthorities');
  const ok = parseConfig({ auth: { clientId: CLIENT, authority: 'https://idp.example:8443/tenant', knownAuthorities: ['idp.example:8443'], protocolMode: 'OIDC' } }, { env: {} });
  assert.equal(ok.auth.protocolMode, 'OIDC');
});

test('a bad cron schedule is a config error naming the job', () => {
  const [line] = problems({ auth: { clientId: CLIENT }, graph: { jobs: [{ name: 'presence', schedule: 'every minute', path: '/me/presence' }] } });
  assert.match(line!, /^graph\.jobs\[0\]\.schedule: "every minute" of job "presence" is not a cron expression/);
});

test('an unreadable CA file is named with the fix', () => {
  const [line] = problems({ auth: { clientId: CLIENT }, network: { caFile: '/nonexistent/ca.pem' } });
  assert.match(line!, /^network\.caFile: cannot read "\/nonexistent\/ca\.pem" \(ENOENT\)/);
});

test('broken JSON says where', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-config-'));
  const file = path.join(dir, 'config.json');
  await writeFile(file, '{\n  "auth": { "clientId": "x", }\n}');
  assert.throws(() => loadConfigFile(file, {}), (err: unknown) => err instanceof ConfigError && /not valid JSON.*line 2/.test(err.problems[0]!));
});

test('paths are resolved against the config file and the systemd state directory', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-config-'));
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ auth: { clientId: CLIENT }, display: { driver: 'png', pngPath: 'screen.png' } }));
  const config = parseConfig({ auth: { clientId: CLIENT } }, { file, env: { STATE_DIRECTORY: '/var/lib/graph-device-agent' } });
  assert.equal(config.cache.path, '/var/lib/graph-device-agent/token-cache.bin');
  // pngPath is relative to the file; and it must be in the state directory or outputDirectory.
  assert.equal(loadConfigFile(file, { STATE_DIRECTORY: dir }).display.pngPath, path.join(dir, 'screen.png'));
  assert.throws(() => loadConfigFile(file, { STATE_DIRECTORY: '/var/lib/graph-device-agent' }).display.pngPath,
    (err: unknown) => err instanceof ConfigError && /^display\.pngPath: "screen\.png" .* is outside the state directory/.test(err.problems[0]!));
  assert.ok((await readFile(file, 'utf8')).includes('png'));
});

test('a job\'s bad path placeholder or template is a config error naming the job', () => {
  const [line] = problems({ auth: { clientId: CLIENT }, graph: { jobs: [{ name: 'next', schedule: '*/5 * * * *', path: '/me/calendarView?startDateTime={tomorrow}' }] } });
  assert.match(line!, /^graph\.jobs\[0\]: job "next": .*\{tomorrow\}/);
});

test('a relative output file lands in the state directory, not next to the config in /etc', () => {
  const config = parseConfig({ auth: { clientId: CLIENT }, stateDirectory: '/var/lib/gda', graph: { jobs: [{ name: 'me', schedule: '*/5 * * * *', path: '/me', outputFile: 'me.json' }] } }, { file: '/etc/gda/config.json', env: {} });
  assert.equal(config.graph.jobs?.[0]?.outputFile, '/var/lib/gda/me.json');
});
