import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRfc8628Server } from '../support/rfc8628-server.js';
import { parseConfig } from '../../src/config/index.js';
import { createApp } from '../../src/app/app.js';
import { captureLogs } from '../support/log-capture.js';
import { RecordingDisplay, TestButton } from '../support/agent-harness.js';

test('a plain RFC 8628 server (not Entra): discovered device endpoint, the grant type URN, OIDC mode', async (t) => {
  const server = await startRfc8628Server();
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-rfc8628-'));
  const running: { app?: Awaited<ReturnType<typeof createApp>> } = {};
  // The agent stops before its state folder goes: its last writes must not race the removal.
  t.after(async () => {
    await running.app?.stop();
    await server.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  const config = parseConfig({
    auth: { clientId: 'pi-display', authority: `${server.origin}/realm`, knownAuthorities: [server.knownAuthority], protocolMode: 'OIDC', scopes: ['profile'] },
    graph: { baseUrl: server.graphBaseUrl, allowedHosts: [new URL(server.graphBaseUrl).host] },
    network: { caFile: server.caFile },
    display: { driver: 'none' },
    signIn: { minPollIntervalSec: 0.1 },
    stateDirectory: dir,
  }, { env: {} });
  const logs = captureLogs();
  const display = new RecordingDisplay();
  const app = await createApp(config, logs.logger, { display, extraButton: new TestButton() });
  running.app = app;
  await app.start();

  const showing = await app.agent.waitFor((s) => s.name === 'showing-code');
  const userCode = showing.name === 'showing-code' ? showing.code.userCode : '';
  assert.deepEqual(server.pending(), [userCode], 'the code came from the server\'s own device authorization endpoint');
  server.approve(userCode);
  const signedIn = await app.agent.waitFor((s) => s.name === 'signed-in' && s.lines.length === 2);
  assert.equal(signedIn.name === 'signed-in' && signedIn.account.name, 'Ravi Kumar');
  assert.deepEqual(signedIn.name === 'signed-in' && signedIn.lines.map((l) => l.line), ['Facilities', 'No manager']);
  assert.ok(server.grantTypesSeen.length > 0);
  assert.ok(server.grantTypesSeen.every((g) => g === 'urn:ietf:params:oauth:grant-type:device_code' || g === 'refresh_token'), `grant types sent: ${server.grantTypesSeen.join(', ')}`);
});
