import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';

/**
 * The bench measures the agent as it runs on a Pi: plain JavaScript under `node`, not TypeScript
 * compiled on the fly by tsx (whose start-up would swamp a first-frame figure). So it transpiles
 * src/ (and the few test files the bench's child needs) file by file, as `tsc` would emit them,
 * into a temp dir with the repo's layout, a `"type": "module"` package.json and a link to the
 * repo's node_modules. Type errors are the type-check's business, not the bench's.
 *
 * Outside the repo on purpose: eslint would otherwise lint the output.
 */

export interface Build {
  /** The temp dir; `${dir}/src/cli.js` is the agent's CLI. */
  dir: string;
  /** Absolute path of a built file, from its repo-relative .ts path. */
  js(relativeTs: string): string;
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  verbatimModuleSyntax: true,
  esModuleInterop: true,
  sourceMap: false,
  // As tsconfig.build.json: V8 keeps the source text of every loaded module for the life of the
  // process, and the comments are for readers of src/, not for a daemon's heap.
  removeComments: true,
};

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await tsFiles(full)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

export async function buildForBench(repo: string, extraFiles: string[]): Promise<Build> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-bench-build-'));
  await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  await symlink(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const files = [...(await tsFiles(path.join(repo, 'src'))), ...extraFiles.map((f) => path.join(repo, f))];
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: COMPILER_OPTIONS, fileName: file });
    const target = path.join(dir, path.relative(repo, file)).replace(/\.ts$/, '.js');
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  return { dir, js: (relativeTs) => path.join(dir, relativeTs.replace(/\.ts$/, '.js')) };
}
