import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/**
 * Reading a file a person named in the configuration (the configuration itself, the CA bundle,
 * the cache key), without trusting that it is a file. A typo can name a folder ("/etc"), a device
 * that never ends ("/dev/zero"), a FIFO whose open() waits forever for a writer, a symbolic link
 * loop, or a 2 GB log: each must become a message that names the field, not a hang, a crash or
 * an out-of-memory kill. So: open without blocking (O_NONBLOCK: a FIFO opens at once), fstat the
 * descriptor that is then read (the type and size checked are the file's that is read), refuse
 * anything but a regular file, and never read more than `maxBytes` (a file that grows while read,
 * or a /proc file that says it is empty, is cut off at the limit and refused too).
 */

export type FileRefusal =
  /** Not there (ENOENT), or a path component is a file (ENOTDIR). */
  | 'missing'
  /** A folder, a device, a FIFO, a socket (or, with noFollow, a symbolic link). */
  | 'not-a-file'
  | 'too-large'
  /** A loop of symbolic links (ELOOP), or a name too long for the system. */
  | 'loop'
  /** Anything else open() or read() said: EACCES, EIO... (`code`). */
  | 'unreadable';

export class FileRefusedError extends Error {
  constructor(
    readonly file: string,
    readonly refusal: FileRefusal,
    /** For people: "is a directory", "is larger than 1 MiB (…)", "cannot be read (EACCES)". */
    readonly what: string,
    readonly code?: string,
  ) {
    super(`${file} ${what}`);
    this.name = 'FileRefusedError';
  }
}

export const KIB = 1024;
export const MIB = 1024 * 1024;
/** A configuration is a few kilobytes; anything near this is the wrong file. */
export const MAX_CONFIG_BYTES = MIB;

/** "1 MiB", "4 KiB", "512 bytes". */
export function sizeText(bytes: number): string {
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} bytes`;
}

/** What a non-regular file is, in words: "a directory", "a FIFO (named pipe)"... */
export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return st.isFile() ? 'a file' : 'not a regular file';
}

export interface ReadOptions {
  maxBytes: number;
  /** Refuse a symbolic link as the last component (O_NOFOLLOW): for files the agent also replaces. */
  noFollow?: boolean;
}

/** The bytes of a regular file of at most `maxBytes`, with its stat; a {@link FileRefusedError} otherwise. */
export function readRegularFile(file: string, options: ReadOptions): { data: Buffer; stat: Stats } {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (options.noFollow ? constants.O_NOFOLLOW : 0);
  let fd: number;
  try {
    fd = openSync(file, flags);
  } catch (err) {
    throw refusalOf(file, err, options.noFollow ?? false);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileRefusedError(file, 'not-a-file', `is ${kindOf(st)}, not a file`);
    if (st.size > options.maxBytes) {
      throw new FileRefusedError(file, 'too-large', `is larger than ${sizeText(options.maxBytes)} (${st.size} bytes)`);
    }
    // Sized by fstat, not by the limit: a buffer of maxBytes (1 MiB) is a mapping of its own, and
    // once glibc frees one it keeps later blocks of up to that size in its heap (the dynamic mmap
    // threshold), where they fragment it: about a megabyte more resident for the daemon's life.
    // One byte more than the size, to see a file that grew; grown on demand up to maxBytes + 1.
    let buffer = Buffer.alloc(Math.min(st.size, options.maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.alloc(Math.min(options.maxBytes + 1, 2 * buffer.length + 4096));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > options.maxBytes) {
        throw new FileRefusedError(file, 'too-large', `is larger than ${sizeText(options.maxBytes)}`);
      }
    }
    return { data: buffer.subarray(0, length), stat: st };
  } catch (err) {
    if (err instanceof FileRefusedError) throw err;
    throw refusalOf(file, err, false);
  } finally {
    closeSync(fd);
  }
}

/** What is at `file`: its lstat (the link itself, when it is one), or null when nothing is. */
export function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw refusalOf(file, err, false);
  }
}

/** Like {@link lstatOrNull}, following symbolic links. */
export function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw refusalOf(file, err, false);
  }
}

function refusalOf(file: string, err: unknown, noFollow: boolean): FileRefusedError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new FileRefusedError(file, 'missing', `does not exist (${code})`, code);
    case 'ELOOP':
      return noFollow
        ? new FileRefusedError(file, 'not-a-file', 'is a symbolic link, not a file', code)
        : new FileRefusedError(file, 'loop', 'is a loop of symbolic links (ELOOP)', code);
    case 'ENAMETOOLONG':
      return new FileRefusedError(file, 'loop', 'is a name too long for the system (ENAMETOOLONG)', code);
    case 'EISDIR':
      return new FileRefusedError(file, 'not-a-file', 'is a directory, not a file', code);
    case 'ENXIO':
      // open(O_NONBLOCK) of a socket, or of a FIFO for writing with no reader.
      return new FileRefusedError(file, 'not-a-file', 'is a socket or a device with nothing behind it, not a file', code);
    default:
      return new FileRefusedError(file, 'unreadable', `cannot be read (${code ?? String(err)})`, code);
  }
}
