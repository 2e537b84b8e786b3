import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireTool } from '../support/requires-tool.js';
import { makeFixture } from './install-fixture.js';

// The installer's config.txt edit as install.test.ts checks it (--yes, run twice), here without
// --yes and with the power key: three more installer runs (npm run test:long).

test('config.txt: without --yes (no terminal) only prints the line; a KEY_POWER line or keycode 116 is refused', async (t) => {
  if (!requireTool(t, 'systemctl', 'apt-get install systemd')) return;
  const fx = await makeFixture();
  try {
    const configTxt = path.join(fx.root, 'boot/firmware/config.txt');
    await mkdir(path.dirname(configTxt), { recursive: true });
    await writeFile(configTxt, 'dtparam=i2c_arm=on\n');
    const asked = fx.run();
    assert.equal(asked.status, 0, asked.stderr);
    assert.match(asked.stdout, /add this line and reboot:\n {4}dtoverlay=gpio-key,gpio=17,active_low=1,gpio_pull=up,keycode=256,label=graph-device-agent\n/);
    assert.equal(await readFile(configTxt, 'utf8'), 'dtparam=i2c_arm=on\n');

    // The overlay's default keycode on our pin, from an older guide: warned about, left for the person.
    await writeFile(configTxt, 'dtoverlay=gpio-key,gpio=17,active_low=1,gpio_pull=up\n');
    const power = fx.run(['--yes']);
    assert.equal(power.status, 0, power.stderr);
    assert.match(power.stderr, /sends KEY_POWER \(116, the overlay's default\), and systemd-logind shuts the Pi down on a press/);
    assert.equal(await readFile(configTxt, 'utf8'), 'dtoverlay=gpio-key,gpio=17,active_low=1,gpio_pull=up\n');

    await writeFile(configTxt, 'dtparam=i2c_arm=on\n');
    await writeFile(path.join(fx.root, 'etc/graph-device-agent/config.json'), JSON.stringify({ auth: { clientId: 'x' }, button: { evdevKeycode: 116 } }));
    const refused = fx.run(['--yes']);
    assert.equal(refused.status, 0, refused.stderr);
    assert.match(refused.stderr, /button\.evdevKeycode is 116 \(KEY_POWER\).*Not adding the overlay/);
    assert.equal(await readFile(configTxt, 'utf8'), 'dtparam=i2c_arm=on\n');
  } finally {
    await fx.dispose();
  }
});
