import { spawnSync } from 'node:child_process';

/**
 * Fails (never skips) when a tool these tests drive is missing, and says which Debian package
 * brings it: CI must install it rather than quietly test less.
 */
export function requireCommand(command: string, debianPackage: string): void {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error(`"${command}" is not installed, and these tests need it: apt-get install -y ${debianPackage}`);
  }
}
