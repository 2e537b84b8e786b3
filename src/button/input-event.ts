import { endianness } from 'node:os';

/**
 * The kernel's `struct input_event` (linux/input.h), as read from `/dev/input/eventN`:
 *
 *     struct timeval time;   two longs: seconds, microseconds
 *     __u16 type;            EV_SYN 0, EV_KEY 1, ...
 *     __u16 code;            the key: BTN_0 256, KEY_POWER 116, ...
 *     __s32 value;           for EV_KEY: 1 down, 0 up, 2 autorepeat
 *
 * A long is the reading process's: 24 bytes for a 64-bit process, 16 for a 32-bit one (armhf),
 * even on a 64-bit kernel (its compat layer writes the 32-bit layout), and also with Debian's
 * 64-bit time_t on armhf (the uapi header keeps the two 32-bit words there).
 */

export const EV_SYN = 0;
export const EV_KEY = 1;
/** What the gpio-key overlay sends unless told otherwise; systemd-logind powers off on it. */
export const KEY_POWER = 116;
/**
 * The code this project writes into the overlay line. BTN_0 ("misc button 0") is mapped by
 * nothing: the kernel's console keyboard only attaches to devices with codes below BTN_MISC
 * (256), udev does not call a device with only BTN_0 a keyboard (so no desktop session types
 * with it), and logind reacts to KEY_POWER/KEY_SLEEP/KEY_SUSPEND/lid switches only.
 */
export const BTN_0 = 256;

export type EventSize = 16 | 24;

/** Process architectures whose long is 64 bits (Node's `process.arch` names). */
const ARCH_64 = new Set(['arm64', 'x64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'mips64']);

/** The record size for a process of this architecture: 24 on arm64/x64, 16 on arm (armhf)/ia32. */
export function eventSizeFor(arch: string = process.arch): EventSize {
  return ARCH_64.has(arch) ? 24 : 16;
}

export interface InputEvent {
  type: number;
  code: number;
  value: number;
}

/**
 * Splits a byte stream into input events. The kernel hands out whole records, but a stream in
 * Node may still cut one in two (a read size that is not a multiple, a FIFO): the tail waits
 * here for the rest.
 */
export class InputEventDecoder {
  private rest: Buffer = Buffer.alloc(0);
  private readonly little = endianness() === 'LE';

  constructor(readonly size: EventSize) {}

  push(chunk: Buffer): InputEvent[] {
    const data = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    const events: InputEvent[] = [];
    const at = this.size - 8; // type, code and value follow the two longs
    let offset = 0;
    for (; offset + this.size <= data.length; offset += this.size) {
      const o = offset + at;
      events.push(this.little
        ? { type: data.readUInt16LE(o), code: data.readUInt16LE(o + 2), value: data.readInt32LE(o + 4) }
        : { type: data.readUInt16BE(o), code: data.readUInt16BE(o + 2), value: data.readInt32BE(o + 4) });
    }
    this.rest = Buffer.from(data.subarray(offset));
    return events;
  }

  /** Bytes of a record still waiting for the rest of it. */
  get pending(): number {
    return this.rest.length;
  }

  reset(): void {
    this.rest = Buffer.alloc(0);
  }
}
