// A Pi where the optional native i2c-bus addon was not built (no compiler when `npm ci` ran, or
// `--ignore-scripts`): the package is there, and loading it throws what its `bindings` loader
// throws. This file's process gets a module hook that makes `import('i2c-bus')` do exactly that,
// so the real openI2cBus meets it on any machine, built or not.
import assert from 'node:assert/strict';
import { register } from 'node:module';
import { test } from 'node:test';
import { Ssd1306Display } from '../../../src/display/ssd1306/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { captureLog, textish } from './helpers.js';

const NOT_BUILT = 'throw new Error("Could not locate the bindings file. Tried:\\n → /opt/graph-device-agent/node_modules/i2c-bus/build/Release/i2c.node");';
register(`data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'i2c-bus') return { url: 'data:text/javascript,${encodeURIComponent(NOT_BUILT)}', shortCircuit: true };
  return next(specifier, context);
}`)}`);

test('an i2c-bus that was not built: the display stays off, one line says to rebuild it, the agent goes on', async () => {
  const { logger, lines } = captureLog();
  const timers = new FakeClock();
  const display = new Ssd1306Display({ bus: 1, address: 0x3c, width: 128, height: 64, controller: 'ssd1306', logger, timers });
  await display.open();
  await display.show(textish());
  await display.show(textish());
  const errors = lines.filter((l) => l.event === 'display.error');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(String(errors[0]!.problem), /native i2c-bus module is missing or was built for another Node\.js/);
  assert.match(String(errors[0]!.fix), /npm rebuild i2c-bus/);
  await display.close();
});
