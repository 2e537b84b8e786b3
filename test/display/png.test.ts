import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { Frame } from '../../src/display/frame.js';
import { OLED_STYLE, PngDisplay, frameToPng } from '../../src/display/png.js';
import { renderScreen } from '../../src/display/screens.js';

/** The frame a PNG shows, reading one image pixel per panel pixel (its centre). */
function pngToFrame(data: Buffer, width: number, height: number, scale = 1, bezel = 0): Frame {
  const png = PNG.sync.read(data);
  assert.equal(png.width, width * scale + 2 * bezel);
  assert.equal(png.height, height * scale + 2 * bezel);
  const frame = new Frame(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = bezel + x * scale + Math.floor((scale - 1) / 2);
      const py = bezel + y * scale + Math.floor((scale - 1) / 2);
      const i = (py * png.width + px) * 4;
      frame.set(x, y, (png.data[i] ?? 0) > 128);
    }
  }
  return frame;
}

const screen = renderScreen(
  { kind: 'device-code', userCode: 'Q6GR3KMGL', verificationUri: 'https://microsoft.com/devicelogin', issuedAt: 0, expiresAt: 900_000 },
  60_000,
  { width: 128, height: 64 },
);

describe('PNG display', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gda-png-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a PNG whose pixels are the frame, one image pixel per panel pixel', async () => {
    const path = join(dir, 'plain', 'screen.png');
    const display = new PngDisplay({ path });
    await display.open();
    await display.show(screen);
    const png = PNG.sync.read(await readFile(path));
    // Exactly white or black, nothing in between.
    for (let i = 0; i < png.data.length; i += 4) assert.ok(png.data[i] === 0 || png.data[i] === 255);
    assert.ok(pngToFrame(await readFile(path), 128, 64).equals(screen));
    await display.close({ blank: false });
  });

  it('does not write the SD card again for a frame it already shows', async () => {
    const path = join(dir, 'same', 'screen.png');
    const display = new PngDisplay({ path });
    await display.open();
    await display.show(screen);
    const first = (await stat(path)).ino;
    await display.show(screen.clone());
    assert.equal((await stat(path)).ino, first, 'the same frame: no new file');
    const other = screen.clone();
    other.set(0, 0, !other.get(0, 0));
    await display.show(other);
    assert.notEqual((await stat(path)).ino, first, 'a changed frame is written');
    await display.close({ blank: false });
  });

  it('scales each pixel to a square block', async () => {
    const path = join(dir, 'scaled.png');
    const display = new PngDisplay({ path, scale: 3 });
    await display.open();
    await display.show(screen);
    const png = PNG.sync.read(await readFile(path));
    assert.equal(png.width, 384);
    // Every image pixel of a block has the panel pixel's colour.
    for (let y = 0; y < png.height; y++) {
      for (let x = 0; x < png.width; x++) {
        const lit: boolean = (png.data[(y * png.width + x) * 4] ?? 0) > 128;
        assert.equal(lit, screen.get(Math.floor(x / 3), Math.floor(y / 3)), `(${x}, ${y})`);
      }
    }
  });

  it('replaces the file atomically: the old picture is gone, no temp file is left', async () => {
    const sub = join(dir, 'atomic');
    await mkdir(sub);
    const path = join(sub, 'screen.png');
    await writeFile(path, 'not a png, the previous contents');
    const display = new PngDisplay({ path });
    await display.open();
    const first = new Frame(128, 64).fillRect(0, 0, 10, 10);
    // Two frames without waiting in between: the file ends as the last one.
    await Promise.all([display.show(first), display.show(screen)]);
    assert.deepEqual(await readdir(sub), ['screen.png']);
    assert.ok(pngToFrame(await readFile(path), 128, 64).equals(screen));
  });

  it('leaves no temp file behind when the write fails', async () => {
    const sub = join(dir, 'failing');
    const path = join(sub, 'screen.png');
    await mkdir(path, { recursive: true }); // a directory where the file should go: rename fails
    const display = new PngDisplay({ path });
    await display.open();
    await assert.rejects(display.show(screen));
    assert.deepEqual(await readdir(sub), ['screen.png']);
    assert.deepEqual(await readdir(path), []);
  });

  it('shows black while powered off and the last frame again when powered on', async () => {
    const path = join(dir, 'power.png');
    const display = new PngDisplay({ path });
    await display.open();
    await display.show(screen);
    await display.setPower(false);
    assert.equal(pngToFrame(await readFile(path), 128, 64).litCount(), 0);
    await display.setPower(true);
    assert.ok(pngToFrame(await readFile(path), 128, 64).equals(screen));
    await display.close();
    assert.equal(pngToFrame(await readFile(path), 128, 64).litCount(), 0, 'close() blanks by default');
  });

  it('refuses a frame of another size', async () => {
    const display = new PngDisplay({ path: join(dir, 'size.png'), height: 32 });
    await assert.rejects(display.show(screen), /128x64/);
  });

  it('draws the OLED look (scale, pixel grid, bezel) with the same pixels', () => {
    const data = frameToPng(screen, OLED_STYLE);
    assert.ok(pngToFrame(data, 128, 64, OLED_STYLE.scale, OLED_STYLE.bezel).equals(screen));
  });

  it('keeps the QR code scannable in the OLED look (the README pictures)', () => {
    const png = PNG.sync.read(frameToPng(screen, OLED_STYLE));
    const found = jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height);
    assert.equal(found?.data, 'https://microsoft.com/devicelogin');
  });
});
