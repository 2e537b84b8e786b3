import { closeSync, constants, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { MAGIC, looksLikeOurCache } from '../auth/cache/format.js';
import { MAX_KEY_FILE_BYTES } from '../auth/cache/key.js';
import { LAST_GRAPH_FILE } from '../graph/last-run.js';
import { STATUS_FILE_NAME } from '../service/status-file.js';
import { FileRefusedError, MIB, kindOf, lstatOrNull, readRegularFile, sizeText, statOrNull } from './files.js';

/**
 * The files a configuration names, checked before the agent starts: each must be what the
 * setting says (a folder, a file, or nothing yet), and nothing the agent writes may land on
 * something that is not its own. A typo over SSH (`"cache": {"path": "/etc/graph-device-agent/config.json"}`
 * run with sudo, `"outputFile": "token-cache.key"`) must be a config error that names the field,
 * never a moved config file, a replaced /dev/null or a lost key.
 *
 * The rules:
 *  - the state directory, when it exists, is a folder that group and others cannot write;
 *  - the cache key is a regular file of at most 4 KiB (or not there yet); the CA bundle a
 *    regular file of at most 1 MiB holding PEM certificates;
 *  - the token cache, when it exists, is a regular file (not a link) of at most 8 MiB that
 *    starts with the cache's header: anything else is not ours to read, move or replace;
 *  - display.pngPath and every job's outputFile resolve (symbolic links followed) inside the state
 *    directory or `outputDirectory`, and are none of the agent's own files.
 */

export const MAX_CA_FILE_BYTES = MIB;
export const MAX_CACHE_BYTES = 8 * MIB;
const MAX_PATH = 4096;

export interface FilePaths {
  configFile: string | undefined;
  stateDirectory: string;
  /** The resolved outputDirectory, if one is set. */
  outputDirectory: string | undefined;
  cachePath: string;
  keyFile: string;
  /** The state directory's key file, which the daemon may create. */
  defaultKeyFile: string;
  caFile: string | undefined;
  pngPath: string | undefined;
  /** pngPath as written in the file, for messages. */
  pngGiven?: string | undefined;
  outputs: Array<{ field: string; given: string; file: string }>;
}

/** Text that can be a path at all: not empty, not absurdly long, no control characters (a NUL throws inside fs). */
export function checkPathText(field: string, value: string | undefined, problems: string[]): boolean {
  if (value === undefined) return true;
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (value === '' || value.length > MAX_PATH || /[\u0000-\u001f\u007f]/.test(value)) {
    const shown = value.length > 60 ? `${JSON.stringify(value.slice(0, 40))}\u2026 (${value.length} characters)` : JSON.stringify(value);
    problems.push(`${field}: ${shown} is not a usable path: give a path of printable characters, at most ${MAX_PATH} long`);
    return false;
  }
  return true;
}

export function checkFilePaths(p: FilePaths, problems: string[]): void {
  checkStateDirectory(p.stateDirectory, 'stateDirectory', problems);
  if (p.outputDirectory) checkStateDirectory(p.outputDirectory, 'outputDirectory', problems);
  checkKeyFile(p.keyFile, problems);
  if (p.caFile) checkCaFile(p.caFile, problems);
  checkCache(p, problems);
  checkWrittenFiles(p, problems);
}

function checkStateDirectory(dir: string, field: string, problems: string[]): void {
  let st;
  try {
    // Followed: systemd's DynamicUser= makes /var/lib/NAME a link to /var/lib/private/NAME.
    st = statOrNull(dir);
  } catch (err) {
    problems.push(`${field}: ${dir} ${(err as FileRefusedError).what}: point it at a folder the service user owns`);
    return;
  }
  if (st === null) return; // created (0700) when first needed
  if (!st.isDirectory()) {
    problems.push(`${field}: ${dir} is ${kindOf(st)}, not a folder: point it at a folder (it is created if missing)`);
    return;
  }
  if ((st.mode & 0o022) !== 0) {
    problems.push(`${field}: ${dir} may be written by group or others (mode ${modeText(st.mode)}), so they could replace the agent's files: run \`chmod 700 ${dir}\``);
  }
}

function checkKeyFile(file: string, problems: string[]): void {
  let st;
  try {
    st = statOrNull(file);
  } catch (err) {
    problems.push(`cache.keyFile: ${file} ${(err as FileRefusedError).what}: point it at the key file`);
    return;
  }
  // A missing key is reported (or created) when the agent looks for it (auth/key-source.ts).
  if (st === null) return;
  if (!st.isFile()) {
    problems.push(`cache.keyFile: ${file} is ${kindOf(st)}, not a file: point "cache.keyFile" at the key file itself`);
  } else if (st.size > MAX_KEY_FILE_BYTES) {
    problems.push(`cache.keyFile: ${file} is larger than ${sizeText(MAX_KEY_FILE_BYTES)} (${st.size} bytes), so it is no key: point it at a key made by \`graph-device-agent keygen\``);
  }
}

function checkCaFile(file: string, problems: string[]): void {
  let data: Buffer;
  try {
    data = readRegularFile(file, { maxBytes: MAX_CA_FILE_BYTES }).data;
  } catch (err) {
    if (!(err instanceof FileRefusedError)) throw err;
    problems.push(err.refusal === 'missing' || err.refusal === 'unreadable'
      ? `network.caFile: cannot read ${JSON.stringify(file)} (${err.code ?? 'error'}): point it at a readable PEM file with your CA certificate(s)`
      : `network.caFile: ${JSON.stringify(file)} ${err.what}: point it at a PEM file with your CA certificate(s) (at most ${sizeText(MAX_CA_FILE_BYTES)})`);
    return;
  }
  if (!data.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
    problems.push(`network.caFile: ${JSON.stringify(file)} holds no PEM certificate: it must contain "-----BEGIN CERTIFICATE-----" blocks`);
  }
}

function checkCache(p: FilePaths, problems: string[]): void {
  const file = p.cachePath;
  const fix = `point cache.path at the token cache, or at a file that does not exist yet in the state directory (e.g. ${path.join(p.stateDirectory, 'token-cache.bin')}); the agent creates it`;
  let st;
  try {
    st = lstatOrNull(file);
  } catch (err) {
    problems.push(`cache.path: ${file} ${(err as FileRefusedError).what}: ${fix}`);
    return;
  }
  for (const [other, name] of [[p.configFile, 'the configuration file'], [p.keyFile, 'cache.keyFile'], [p.caFile, 'network.caFile']] as const) {
    if (other !== undefined && sameTarget(file, other)) {
      problems.push(`cache.path: ${file} is ${name}; the agent would replace it with the token cache: ${fix}`);
      return;
    }
  }
  if (st === null) return;
  if (st.isSymbolicLink()) {
    problems.push(`cache.path: ${file} is a symbolic link; the cache is never read or replaced through one: ${fix}`);
    return;
  }
  if (!st.isFile()) {
    problems.push(`cache.path: ${file} is ${kindOf(st)}, not a token cache; it is left untouched: ${fix}`);
    return;
  }
  if (st.size > MAX_CACHE_BYTES) {
    problems.push(`cache.path: ${file} is larger than ${sizeText(MAX_CACHE_BYTES)} (${st.size} bytes), so it is not a token cache; it is left untouched: ${fix}`);
    return;
  }
  let head = Buffer.alloc(0);
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY);
    try {
      head = Buffer.alloc(MAGIC.length);
      head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    // Unreadable (EACCES, say): the cache reports that itself, and never overwrites it.
    return;
  }
  if (!looksLikeOurCache(head)) {
    problems.push(`cache.path: ${file} is not a token cache of this agent (it does not start with "${MAGIC.toString('latin1')}"); it is left untouched: ${fix}`);
  } else if (head.length === 0 && !realPath(file).startsWith(realPath(p.stateDirectory) + path.sep)) {
    // An empty file is a torn write of ours only where we write: elsewhere it is someone's empty file.
    problems.push(`cache.path: ${file} is an empty file outside the state directory, not a token cache; it is left untouched: ${fix}`);
  }
}

function checkWrittenFiles(p: FilePaths, problems: string[]): void {
  const roots = [p.stateDirectory, ...(p.outputDirectory ? [p.outputDirectory] : [])].map(realPath);
  const rootsText = p.outputDirectory ? `the state directory (${p.stateDirectory}) or outputDirectory (${p.outputDirectory})` : `the state directory (${p.stateDirectory})`;
  // The agent's own files, which nothing configured may replace.
  const own = new Map<string, string>();
  const addOwn = (file: string | undefined, what: string): void => {
    if (file !== undefined) own.set(realPath(file), what);
  };
  addOwn(p.configFile, 'the configuration file');
  addOwn(p.cachePath, 'the token cache (cache.path)');
  addOwn(`${p.cachePath}.lock`, 'the token cache\'s lock');
  addOwn(p.keyFile, 'the token cache key (cache.keyFile)');
  addOwn(p.defaultKeyFile, 'the token cache key');
  addOwn(p.caFile, 'the CA bundle (network.caFile)');
  addOwn(path.join(p.stateDirectory, STATUS_FILE_NAME), `the agent's ${STATUS_FILE_NAME}`);
  addOwn(path.join(p.stateDirectory, LAST_GRAPH_FILE), `the agent's ${LAST_GRAPH_FILE}`);

  const written = [
    ...(p.pngPath ? [{ field: 'display.pngPath', given: p.pngGiven ?? p.pngPath, file: p.pngPath }] : []),
    ...p.outputs,
  ];
  for (const w of written) {
    const real = realPath(w.file);
    const shown = JSON.stringify(w.given);
    const name = path.basename(real);
    if (!roots.some((root) => real.startsWith(root.endsWith(path.sep) ? root : root + path.sep))) {
      problems.push(`${w.field}: ${shown} (${real}) is outside ${rootsText}, where the agent writes its files: use a file name inside it, or set outputDirectory to the folder you want`);
      continue;
    }
    const ownWhat = own.get(real);
    if (ownWhat !== undefined) {
      problems.push(`${w.field}: ${shown} is ${ownWhat}, which the agent must not overwrite: choose another file name`);
      continue;
    }
    if (name.startsWith('.') || /\.(lock|tmp)$|\.unreadable-|\.tmp-/.test(name)) {
      problems.push(`${w.field}: ${shown} has the form of the agent's temporary, lock or moved-aside files: choose a plain name like "me.json"`);
      continue;
    }
    own.set(real, w.field);
    let st;
    try {
      st = lstatOrNull(real);
    } catch (err) {
      problems.push(`${w.field}: ${shown} ${(err as FileRefusedError).what}: choose another file name`);
      continue;
    }
    if (st !== null && !st.isFile()) {
      problems.push(`${w.field}: ${shown} is ${kindOf(st)}, not a file the agent may replace: choose another file name`);
    }
  }
}

/** The path with its symbolic links resolved, as far as it exists (the rest appended as written). */
export function realPath(file: string): string {
  const abs = path.resolve(file);
  let head = abs;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return abs;
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}

function sameTarget(a: string, b: string): boolean {
  if (realPath(a) === realPath(b)) return true;
  const sa = statOrNullQuiet(a);
  const sb = statOrNullQuiet(b);
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
}

function statOrNullQuiet(file: string): ReturnType<typeof statOrNull> {
  try {
    return statOrNull(file);
  } catch {
    return null;
  }
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
