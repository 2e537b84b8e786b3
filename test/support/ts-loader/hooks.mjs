/**
 * The loader's hooks (see register.mjs). Relative imports name the compiled file (`./x.js`, as
 * TypeScript's NodeNext resolution requires); when a .ts module asks for a .js file that does not
 * exist and a .ts file of the same name does, that is the one. A .ts file is transpiled by esbuild
 * once per content: the output lands in node_modules/.cache, named by a hash of the file's path,
 * its text, the esbuild version and the options.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && specifier.endsWith('.js') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const asTs = new URL(`${specifier.slice(0, -3)}.ts`, parent);
    if (!existsSync(new URL(specifier, parent)) && existsSync(asTs)) return { url: asTs.href, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  const key = createHash('sha256').update(SALT).update(file).update('\0').update(source).digest('hex').slice(0, 40);
  const cached = path.join(CACHE, `${key}.js`);
  let code;
  try {
    code = readFileSync(cached, 'utf8');
  } catch {
    esbuild ??= require('esbuild');
    code = esbuild.transformSync(source, { ...OPTIONS, sourcefile: file }).code;
    mkdirSync(CACHE, { recursive: true });
    // Parallel test processes may write the same entry: each writes its own temp file, and the
    // rename makes a whole file appear at once.
    const temp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, cached);
  }
  return { format: 'module', source: code, shortCircuit: true };
}
