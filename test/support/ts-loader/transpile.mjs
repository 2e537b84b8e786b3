/**
 * TypeScript to JavaScript for the tests' loader (hooks.mjs), kept in node_modules/.cache, named
 * by a hash of the file's path, its text, the esbuild version and the options: a file is
 * transpiled once per content, whichever process asks first.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const CACHE = path.join(REPO, 'node_modules', '.cache', 'graph-device-agent-ts');
const require = createRequire(import.meta.url);
/** Loaded on the first cache miss only. */
let esbuild;

/** tsconfig.json's settings that change what esbuild emits. */
const OPTIONS = {
  loader: 'ts',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  tsconfigRaw: { compilerOptions: { target: 'ES2022', verbatimModuleSyntax: true } },
};
const ESBUILD_VERSION = JSON.parse(readFileSync(path.join(REPO, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
const SALT = `${ESBUILD_VERSION}\0${JSON.stringify(OPTIONS)}\0`;

/** The JavaScript of the .ts file `file` (an absolute path). */
export function transpiled(file) {
  const source = readFileSync(file, 'utf8');
  const key = createHash('sha256').update(SALT).update(file).update('\0').update(source).digest('hex').slice(0, 40);
  const cached = path.join(CACHE, `${key}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    esbuild ??= require('esbuild');
    const code = esbuild.transformSync(source, { ...OPTIONS, sourcefile: file }).code;
    mkdirSync(CACHE, { recursive: true });
    // Parallel test processes may write the same entry: each writes its own temp file, and the
    // rename makes a whole file appear at once.
    const temp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, cached);
    return code;
  }
}
