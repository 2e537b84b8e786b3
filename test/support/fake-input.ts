import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A fake input device for the evdev button: `struct input_event` records built from the kernel's
 * layout, a `/sys/class/input` tree to find them by, and a FIFO (or a plain file) as the
 * `/dev/input/eventN` node.
 *
 *     const input = new FakeInputTree(dir);
 *     const dev = await input.add({ event: 'event3', name: 'button@11', driver: 'gpio-keys', keys: [256] });
 *     const w = dev.openFifoWriter();
 *     w.write(keyRecords(24, [[256, 1], [256, 0]]));
 */

export const EV_SYN = 0;
export const EV_KEY = 1;

/** One record: timeval (two longs: 8 bytes each at size 24, 4 at size 16), type, code, value; little-endian like the Pi. */
export function inputEvent(size: 16 | 24, type: number, code: number, value: number, sec = 1_700_000_000, usec = 0): Buffer {
  const b = Buffer.alloc(size);
  if (size === 24) {
    b.writeBigInt64LE(BigInt(sec), 0);
    b.writeBigInt64LE(BigInt(usec), 8);
  } else {
    b.writeInt32LE(sec, 0);
    b.writeInt32LE(usec, 4);
  }
  b.writeUInt16LE(type, size - 8);
  b.writeUInt16LE(code, size - 6);
  b.writeInt32LE(value, size - 4);
  return b;
}

/** What gpio-keys sends for each [code, value]: the key event, then EV_SYN/SYN_REPORT. */
export function keyRecords(size: 16 | 24, keys: Array<[code: number, value: number]>): Buffer {
  return Buffer.concat(keys.flatMap(([code, value], i) => [inputEvent(size, EV_KEY, code, value, 1_700_000_000, i * 1000), inputEvent(size, EV_SYN, 0, 0, 1_700_000_000, i * 1000)]));
}

/** A capabilities/key bitmap as the kernel prints it: longs with "%lx" (no padding), most significant first, leading zero words left out. */
export function keyBitmap(keys: number[], wordBits: 32 | 64 = 64): string {
  let bits = 0n;
  for (const k of keys) bits |= 1n << BigInt(k);
  const words: string[] = [];
  const mask = (1n << BigInt(wordBits)) - 1n;
  do {
    words.unshift((bits & mask).toString(16));
    bits >>= BigInt(wordBits);
  } while (bits > 0n);
  return words.join(' ');
}

export interface FakeInputDeviceSpec {
  event: string;
  name: string;
  driver?: string;
  keys: number[];
  /** The kernel's word size for capabilities/key: 64 by default. */
  wordBits?: 32 | 64;
  /** The node: a FIFO (default) or a plain file with these bytes. */
  file?: Buffer;
}

export class FakeInputDevice {
  constructor(readonly spec: FakeInputDeviceSpec, readonly node: string, readonly sysfsDir: string) {}

  /**
   * Opens the FIFO read-write: that never blocks, and the reader's open does not block either.
   * Closing it is the device going away for a reader (end of file).
   */
  openFifoWriter(): { write(data: Buffer): void; close(): void } {
    const fd = openSync(this.node, constants.O_RDWR);
    let open = true;
    return {
      write: (data) => void writeSync(fd, data),
      close: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  }
}

export class FakeInputTree {
  readonly sysfsRoot: string;
  readonly devRoot: string;

  constructor(readonly dir: string) {
    this.sysfsRoot = join(dir, 'sys/class/input');
    this.devRoot = join(dir, 'dev');
  }

  async init(): Promise<this> {
    await mkdir(this.sysfsRoot, { recursive: true });
    await mkdir(join(this.devRoot, 'input'), { recursive: true });
    await mkdir(join(this.dir, 'sys/bus/platform/drivers/gpio-keys'), { recursive: true });
    return this;
  }

  /** eventN/device/{name, capabilities/key, device/driver -> .../gpio-keys} and /dev/input/eventN. */
  async add(spec: FakeInputDeviceSpec): Promise<FakeInputDevice> {
    const dir = join(this.sysfsRoot, spec.event, 'device');
    await mkdir(join(dir, 'capabilities'), { recursive: true });
    await mkdir(join(dir, 'device'), { recursive: true });
    await writeFile(join(dir, 'name'), `${spec.name}\n`);
    await writeFile(join(dir, 'capabilities', 'key'), `${keyBitmap(spec.keys, spec.wordBits)}\n`);
    if (spec.driver) {
      await mkdir(join(this.dir, 'sys/bus/platform/drivers', spec.driver), { recursive: true });
      await symlink(join(this.dir, 'sys/bus/platform/drivers', spec.driver), join(dir, 'device', 'driver'));
    }
    const node = join(this.devRoot, 'input', spec.event);
    if (spec.file) await writeFile(node, spec.file);
    else execFileSync('mkfifo', [node]);
    return new FakeInputDevice(spec, node, join(this.sysfsRoot, spec.event));
  }

  /** The device is gone: from sysfs and /dev. */
  async remove(device: FakeInputDevice): Promise<void> {
    await rm(device.sysfsDir, { recursive: true, force: true });
    await rm(device.node, { force: true });
  }
}
