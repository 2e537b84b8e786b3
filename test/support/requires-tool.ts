import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * True under CI (`CI=true`, as GitHub Actions and `.ci/run` set it): there a missing tool is a
 * failure, so nothing is ever silently unchecked.
 */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

/**
 * For a test that drives a system tool (shellcheck, systemd-analyze, python3…): returns true when
 * `command` is on PATH. When it is not, the test is skipped with one line saying what to install
 * (a newcomer's `npm test` on a machine with only Node and npm passes), except under CI, where it
 * fails with the same line. Use as `if (!requireTool(t, 'shellcheck', 'apt-get install shellcheck')) return;`.
 */
export function requireTool(t: TestContext, command: string, install: string): boolean {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' });
  if (found.status === 0) return true;
  return missing(t, `${command} is not installed: ${install}`);
}

/** The same rule for a requirement that is not a command (a native addon that was not built). */
export function missing(t: TestContext, line: string): false {
  if (inCi()) throw new Error(`${line} (CI runs every test: install it there)`);
  t.skip(line);
  return false;
}
