import { readdir, readFile, readlink } from 'node:fs/promises';
import { machine } from 'node:os';
import { basename, join } from 'node:path';

/**
 * Finding the button's input device in sysfs, without udev or an ioctl:
 *
 *     /sys/class/input/event3/device/name                 "graph-device-agent", or "button@11"
 *     /sys/class/input/event3/device/capabilities/key     the key codes it can send (a bitmap)
 *     /sys/class/input/event3/device/device/driver        -> .../drivers/gpio-keys
 *
 * and its node is `/dev/input/event3`.
 *
 * Why two ways to match: gpio-keys names the input device after the device tree node's own
 * `label`, but the gpio-key overlay's `label=` parameter sets the *key's* label; the device is
 * then named after its node (`button@11` for GPIO17). So a device is ours when its name is the
 * configured one, or else when it is driven by gpio-keys and can send the configured key code.
 */

export const DEFAULT_INPUT_SYSFS_ROOT = '/sys/class/input';
export const DEFAULT_DEV_ROOT = '/dev';

export interface InputDevice {
  /** `event3` */
  event: string;
  /** `/dev/input/event3` (under the dev root). */
  path: string;
  /** The input device's name, as the kernel reports it. */
  name: string;
  /** The driver of the device under it (`gpio-keys`), when there is one. */
  driver: string | undefined;
  /** The key codes it can send. */
  keys: number[];
  /** How it was recognised. */
  match: 'name' | 'gpio-keys';
}

export interface FindInputDeviceOptions {
  name: string;
  keycode: number;
  sysfsRoot?: string;
  devRoot?: string;
}

/**
 * The key codes of a `capabilities/key` bitmap: the kernel prints it as hex `long`s, most
 * significant first, from the highest word that is not zero, each with "%lx" (no zero padding).
 * So the word size must be known: the kernel's, which is not always the process's (32-bit
 * Raspberry Pi OS runs a 64-bit kernel on a Pi 4 and 5). A word longer than 8 digits settles it.
 */
export function parseKeyBitmap(text: string, kernelWordBits: 32 | 64 = kernelLongBits()): number[] {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || !words.every((w) => /^[0-9a-f]{1,16}$/i.test(w))) return [];
  const wordBits = words.some((w) => w.length > 8) ? 64 : kernelWordBits;
  const keys: number[] = [];
  words.reverse().forEach((word, index) => {
    let bits = BigInt(`0x${word}`);
    for (let bit = 0; bits > 0n; bit++, bits >>= 1n) {
      if (bits & 1n) keys.push(index * wordBits + bit);
    }
  });
  return keys;
}

/** The kernel's long: from `uname -m`, which names the kernel's machine (aarch64 under 32-bit Pi OS on a Pi 4). */
export function kernelLongBits(machine: string = osMachine()): 32 | 64 {
  return /64|s390x/.test(machine) ? 64 : 32;
}

function osMachine(): string {
  try {
    return machine();
  } catch {
    return process.arch;
  }
}

async function readTrimmed(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Every `eventN` under the sysfs root, described; unreadable ones are left out. */
export async function listInputDevices(sysfsRoot = DEFAULT_INPUT_SYSFS_ROOT, devRoot = DEFAULT_DEV_ROOT): Promise<Array<Omit<InputDevice, 'match'>>> {
  let entries: string[];
  try {
    entries = (await readdir(sysfsRoot)).filter((n) => /^event\d+$/.test(n));
  } catch {
    return [];
  }
  entries.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const devices: Array<Omit<InputDevice, 'match'>> = [];
  for (const event of entries) {
    const dir = join(sysfsRoot, event, 'device');
    const name = await readTrimmed(join(dir, 'name'));
    if (name === undefined) continue;
    let driver: string | undefined;
    try {
      driver = basename(await readlink(join(dir, 'device', 'driver')));
    } catch {
      driver = undefined;
    }
    const keys = parseKeyBitmap((await readTrimmed(join(dir, 'capabilities', 'key'))) ?? '');
    devices.push({ event, path: join(devRoot, 'input', event), name, driver, keys });
  }
  return devices;
}

/** The button's input device: by name first, else the first gpio-keys device with the key code. */
export async function findInputDevice(options: FindInputDeviceOptions): Promise<InputDevice | undefined> {
  const devices = await listInputDevices(options.sysfsRoot, options.devRoot);
  const byName = devices.find((d) => d.name === options.name);
  if (byName) return { ...byName, match: 'name' };
  const byKey = devices.find((d) => d.driver === 'gpio-keys' && d.keys.includes(options.keycode));
  if (byKey) return { ...byKey, match: 'gpio-keys' };
  return undefined;
}

/** "/dev/input/event3 (button@11, gpio-keys, key 256)" for logs and hw-test. */
export function describeInputDevice(d: Omit<InputDevice, 'match'>): string {
  const keys = d.keys.length === 1 ? `key ${d.keys[0]}` : d.keys.length > 1 ? `keys ${d.keys.join(',')}` : 'no keys';
  return `${d.path} ("${d.name}"${d.driver ? `, ${d.driver}` : ''}, ${keys})`;
}
