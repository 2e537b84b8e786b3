/**
 * The loader's hooks (see register.mjs). Relative imports name the compiled file (`./x.js`, as
 * TypeScript's NodeNext resolution requires); when a .ts module asks for a .js file that does not
 * exist and a .ts file of the same name does, that is the one. A .ts file's JavaScript comes from
 * transpile.mjs (esbuild, cached).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transpiled } from './transpile.mjs';

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
  return { format: 'module', source: transpiled(fileURLToPath(url)), shortCircuit: true };
}
