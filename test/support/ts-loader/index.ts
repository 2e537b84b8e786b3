import path from 'node:path';

/**
 * The node flags that run a TypeScript file (register.mjs): every process a test starts from the
 * sources (`node ...typescriptNodeFlags(), 'src/cli.ts', ...`) uses them, like the test runner.
 */
export function typescriptNodeFlags(): string[] {
  return ['--import', path.join(import.meta.dirname, 'register.mjs')];
}
