import { open, mkdir, readdir, rename, stat, unlink, link, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { unlinkSync } from 'node:fs';

/**
 * The one way the agent writes a file: the token cache and its key, the status file, the PNG
 * screen, the job outputs, the last Graph results. Crash-safe: after a power cut or SIGKILL at
 * any moment the target holds either the complete old content or the complete new content, never
 * a mix or an empty file.
 *
 * The steps (the usual recipe; each one is needed on ext4 with default options):
 *  1. write a temp file in the SAME folder (rename is only atomic within a file system), created
 *     exclusively (O_EXCL: a planted file or symlink at that name makes it fail, never followed)
 *     under an unpredictable name, 0600 unless the caller asks otherwise, so content is never
 *     readable by others, not even briefly;
 *  2. fsync it, so its data is on disk before the rename makes it visible;
 *  3. rename it over the target (atomic replacement);
 *  4. fsync the folder, so the rename itself survives a power cut.
 * A write that fails removes its temp file.
 *
 * Temp files are named `.<target name>.tmp-<pid>-<random>`; a process killed between 1 and 3
 * leaves one behind, and {@link removeStaleTempFiles} cleans those of dead processes.
 */

export interface AtomicWriteOptions {
  /** Mode of the new file; 0600 by default. */
  mode?: number;
  /** Mode of folders created on the way; 0700 by default. */
  dirMode?: number;
  /**
   * Fail with EEXIST instead of replacing an existing target (for key files, which must never
   * be overwritten by accident).
   */
  exclusive?: boolean;
  /**
   * When running as root: give the new file the owner and group of the file it replaces (or,
   * for a new file, of its folder). `sudo graph-device-agent login` next to the service must
   * not leave a cache only root can read.
   */
  keepOwner?: boolean;
}

const TEMP_MARK = '.tmp-';

export function tempPrefix(target: string): string {
  return `.${path.basename(target)}${TEMP_MARK}`;
}

export async function writeFileAtomic(target: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o700 });
  const tempName = `${tempPrefix(target)}${process.pid}-${randomBytes(6).toString('hex')}`;
  const temp = path.join(dir, tempName);
  inFlight.add(tempName);
  inFlightPaths.add(temp);
  try {
    await writeAndPublish(temp, target, data, options);
  } finally {
    inFlight.delete(tempName);
    inFlightPaths.delete(temp);
  }
  await fsyncDir(dir);
}

async function writeAndPublish(temp: string, target: string, data: Uint8Array | string, options: AtomicWriteOptions): Promise<void> {
  const handle = await open(temp, 'wx', options.mode ?? 0o600);
  try {
    try {
      if (options.keepOwner) await inheritOwner(handle, target);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) {
      // link() fails with EEXIST instead of replacing: exclusive creation that is still atomic
      // (the target never exists half-written).
      await link(temp, target);
      await unlink(temp);
    } else {
      await rename(temp, target);
    }
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

async function inheritOwner(handle: FileHandle, target: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const owner = await stat(target).catch(() => stat(path.dirname(target)));
  if (owner.uid !== 0 || owner.gid !== 0) await handle.chown(owner.uid, owner.gid);
}

/** Makes a rename/link/unlink in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Deletes temp files left next to `target` by writers that no longer run (killed mid-write).
 * A temp file of a live process is left alone: it may be writing right now. Returns the names
 * removed.
 */
export async function removeStaleTempFiles(target: string): Promise<string[]> {
  const dir = path.dirname(target);
  const prefix = tempPrefix(target);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    // Our own pid: every write of ours unlinks or renames its temp file before returning, so a
    // leftover with our pid is from an earlier process that had the same pid (after a reboot).
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) continue;
    if (pid === process.pid && inFlight.has(name)) continue;
    try {
      await unlink(path.join(dir, name));
      removed.push(name);
    } catch {
      // Another process removed it first; that is fine.
    }
  }
  return removed;
}

/** Temp names this process is writing right now (so cleaning never races our own writes). */
const inFlight = new Set<string>();
const inFlightPaths = new Set<string>();

/**
 * For a process about to exit in the middle of writes (the stop deadline): removes the temp files
 * of the writes still in flight, synchronously, so none is left behind. The targets keep their
 * last complete version.
 */
export function abandonWritesInFlight(): number {
  let removed = 0;
  for (const temp of inFlightPaths) {
    try {
      unlinkSync(temp);
      removed++;
    } catch {
      // not created yet, or already renamed into place
    }
  }
  inFlightPaths.clear();
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
