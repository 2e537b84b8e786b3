import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * A local stand-in for the shared missing-tool helper the "tests" engineer is adding to
 * test/support (issue 12): true when `command` is on PATH. Otherwise one visible skip line that
 * names the Debian package, or, under CI=true, a failure: CI must install the tool rather than
 * quietly test less.
 */
export function requireTool(t: TestContext, command: string, debianPackage: string): boolean {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  if (found.status === 0) return true;
  const message = `"${command}" is not installed: apt-get install -y ${debianPackage}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing tool fails)`);
  t.skip(message);
  return false;
}
