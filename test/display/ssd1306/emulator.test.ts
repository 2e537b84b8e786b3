// The emulator is the proof the driver is judged by, so it is tested on its own first: byte
// streams written by hand from the datasheets must land where the datasheets say.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ssd1306Emulator, rotateFrame180 } from '../../support/ssd1306-emulator.js';

const cmd = (...bytes: number[]): Buffer => Buffer.from([0x00, ...bytes]);
const data = (...bytes: number[]): Buffer => Buffer.from([0x40, ...bytes]);

function write(emulator: Ssd1306Emulator, bytes: Buffer): number {
  return emulator.i2cWriteSync(0x3c, bytes.length, bytes);
}

/** The minimal bring-up: charge pump, upright orientation, horizontal addressing, display on. */
function ready(emulator: Ssd1306Emulator): void {
  write(emulator, cmd(0x8d, 0x14, 0xa1, 0xc8, 0x20, 0x00, 0xaf));
}

/** Power-on RAM is noise: zeros everywhere. */
function clear(emulator: Ssd1306Emulator): void {
  write(emulator, cmd(0x21, 0, 127, 0x22, 0, 7));
  write(emulator, Buffer.concat([Buffer.from([0x40]), Buffer.alloc(1024)]));
}

function asyncWrite(emulator: Ssd1306Emulator, address: number, bytes: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    emulator.i2cWrite(address, bytes.length, bytes, (error, written) => (error ? reject(error) : resolve(written)));
  });
}

describe('SSD1306 emulator', () => {
  it('wraps data inside a column/page window row by row in horizontal addressing', () => {
    const emulator = new Ssd1306Emulator();
    ready(emulator);
    write(emulator, cmd(0x21, 10, 12, 0x22, 2, 3));
    write(emulator, data(1, 2, 3, 4, 5, 6, 7)); // 6 fill the window, the 7th wraps to its start
    const ram = emulator.ram;
    assert.deepEqual([...ram.subarray(2 * 128 + 10, 2 * 128 + 13)], [7, 2, 3]);
    assert.deepEqual([...ram.subarray(3 * 128 + 10, 3 * 128 + 13)], [4, 5, 6]);
    emulator.assertNoViolations();
  });

  it('goes down the pages first in vertical addressing, and stays in the page in page addressing', () => {
    const emulator = new Ssd1306Emulator();
    write(emulator, cmd(0x20, 0x01, 0x21, 0, 1, 0x22, 0, 1));
    write(emulator, data(1, 2, 3));
    assert.deepEqual([emulator.ram[0], emulator.ram[128], emulator.ram[1]], [1, 2, 3]);

    write(emulator, cmd(0x20, 0x02, 0xb5, 0x0e, 0x17)); // page 5, column 0x7e
    write(emulator, data(9, 8, 7)); // 0x7e, 0x7f, then back to column 0 of page 5
    assert.deepEqual([emulator.ram[5 * 128 + 126], emulator.ram[5 * 128 + 127], emulator.ram[5 * 128]], [9, 8, 7]);
    emulator.assertNoViolations();
  });

  it('decodes single commands with Co=1 control bytes, and arguments sent in separate writes', () => {
    const emulator = new Ssd1306Emulator();
    write(emulator, Buffer.from([0x80, 0x81, 0x80, 0x33, 0x80, 0xa7]));
    assert.equal(emulator.contrast, 0x33);
    assert.equal(emulator.inverted, true);
    write(emulator, cmd(0xa8));
    write(emulator, cmd(0x1f)); // oled-i2c-bus sends every byte on its own
    assert.equal(emulator.multiplex, 32);
    assert.deepEqual(emulator.commandLog, ['contrast 0x33', 'invert', 'multiplex 0x1f']);
  });

  it('fails on a command byte it does not know, and keeps the violation for the test to see', () => {
    const emulator = new Ssd1306Emulator();
    assert.throws(() => write(emulator, cmd(0xad, 0x8b)), /unknown ssd1306 command byte 0xad/);
    assert.throws(() => write(emulator, Buffer.from([0x20, 0x00])), /unknown control byte 0x20/);
    assert.throws(() => emulator.assertNoViolations(), /0xad[\s\S]*0x20/);
  });

  it('shows RAM column 0, row 0 top left when upright (0xA1, 0xC8), and turns it by 180° with 0xA0, 0xC0', () => {
    const emulator = new Ssd1306Emulator();
    ready(emulator);
    clear(emulator);
    write(emulator, cmd(0x21, 0, 0, 0x22, 0, 0));
    write(emulator, data(0b0000_0001)); // the pixel at RAM column 0, row 0
    const upright = emulator.visibleFrame();
    assert.equal(upright.get(0, 0), true);
    assert.equal(upright.litCount(), 1);
    write(emulator, cmd(0xa0, 0xc0));
    assert.ok(emulator.visibleFrame().equals(rotateFrame180(upright)));
  });

  it('is dark with the display off, and with the charge pump off', () => {
    const emulator = new Ssd1306Emulator();
    ready(emulator);
    write(emulator, cmd(0xa5)); // every pixel on
    assert.equal(emulator.visibleFrame().litCount(), 128 * 64);
    write(emulator, cmd(0xae));
    assert.equal(emulator.visibleFrame().litCount(), 0);
    write(emulator, cmd(0xaf, 0x8d, 0x10));
    assert.equal(emulator.visibleFrame().litCount(), 0);
  });

  it('leaves rows past the multiplex ratio dark (oled-i2c-bus\'s default height of 32 on a 64-row panel)', () => {
    const emulator = new Ssd1306Emulator();
    ready(emulator);
    write(emulator, cmd(0xa5, 0xa8, 31, 0xda, 0x12));
    const visible = emulator.visibleFrame();
    assert.equal(visible.litCount(), 128 * 32);
    assert.equal(visible.get(0, 40), false);
  });

  it('answers only at its address, and fails like i2c-bus when absent or unplugged', async () => {
    const emulator = new Ssd1306Emulator({ address: 0x3d });
    assert.throws(() => emulator.i2cWriteSync(0x3c, 2, cmd(0xaf)), { code: 'EREMOTEIO', errno: -121 });
    await assert.rejects(asyncWrite(emulator, 0x3c, cmd(0xaf)), { code: 'EREMOTEIO' });
    assert.equal(await asyncWrite(emulator, 0x3d, cmd(0xaf)), 2);

    const absent = new Ssd1306Emulator({ absent: 'ENOENT' });
    assert.throws(() => write(absent, cmd(0xaf)), { code: 'ENOENT', message: /no such file or directory/ });
    absent.replug();
    assert.equal(write(absent, cmd(0xaf)), 2);

    const flaky = new Ssd1306Emulator();
    flaky.unplugAfter(1);
    write(flaky, cmd(0xaf));
    assert.throws(() => write(flaky, cmd(0xae)), { code: 'EREMOTEIO' });
    assert.throws(() => flaky.receiveByteSync(0x3c), { code: 'EREMOTEIO' });
    assert.equal(flaky.displayOn, true);
    flaky.replug(); // power came back: a reset controller, display off
    assert.equal(flaky.displayOn, false);
  });

  it('cuts writes at i2c-dev\'s 8,192 bytes and reports the shorter length', () => {
    const emulator = new Ssd1306Emulator();
    const big = Buffer.alloc(9000, 0);
    big[0] = 0x40;
    assert.equal(emulator.i2cWriteSync(0x3c, big.length, big), 8192);
    assert.equal(emulator.stats.dataBytes, 8191);
  });

  it('counts bytes and transactions, and holds async writes until released', async () => {
    const emulator = new Ssd1306Emulator();
    const release = emulator.hold();
    let done = 0;
    const writes = [asyncWrite(emulator, 0x3c, cmd(0xaf)), asyncWrite(emulator, 0x3c, data(1, 2, 3))].map((p) => p.then(() => done++));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, 0);
    release();
    await Promise.all(writes);
    assert.deepEqual(
      { transactions: emulator.stats.transactions, bytes: emulator.stats.bytes, wireBytes: emulator.stats.wireBytes, dataBytes: emulator.stats.dataBytes, maxInFlight: emulator.stats.maxInFlight },
      { transactions: 2, bytes: 6, wireBytes: 8, dataBytes: 3, maxInFlight: 2 },
    );
  });
});

describe('SH1106 emulator', () => {
  it('has 132 RAM columns and shows columns 2..129', () => {
    const emulator = new Ssd1306Emulator({ controller: 'sh1106' });
    write(emulator, cmd(0xa1, 0xc8, 0xaf, 0xb3, 0x02, 0x10)); // page 3, column 2
    write(emulator, data(0xff));
    write(emulator, cmd(0xb3, 0x01, 0x18)); // column 0x81 = 129
    write(emulator, data(0x01));
    const visible = emulator.visibleFrame();
    assert.equal(visible.get(0, 24), true);
    assert.equal(visible.get(0, 31), true);
    assert.equal(visible.get(127, 24), true);
    assert.equal(emulator.ramFrame().width, 132);
  });

  it('rejects SSD1306-only commands unless told to ignore them like the chip, which then misreads their arguments', () => {
    const strict = new Ssd1306Emulator({ controller: 'sh1106' });
    assert.throws(() => write(strict, cmd(0x21, 0, 127)), /unknown sh1106 command byte 0x21/);

    const chip = new Ssd1306Emulator({ controller: 'sh1106', foreignCommands: 'ignore' });
    write(chip, cmd(0x21, 0, 127));
    assert.deepEqual(chip.commandLog, ['ignored SSD1306 command 0x21', 'column low', 'start line']);
    assert.equal(chip.startLine, 63);
  });

  it('is modelled upright with the same orientation commands', () => {
    const emulator = new Ssd1306Emulator({ controller: 'sh1106' });
    write(emulator, cmd(0xa1, 0xc8, 0xaf, 0xb0, 0x02, 0x10));
    write(emulator, data(0x01));
    const upright = emulator.visibleFrame();
    assert.equal(upright.get(0, 0), true);
    write(emulator, cmd(0xa0, 0xc0));
    assert.ok(emulator.visibleFrame().equals(rotateFrame180(upright)));
  });
});
