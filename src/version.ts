import { readFileSync } from 'node:fs';

/**
 * The agent's version, from its package.json: one folder up from src/version.ts (the sources), two
 * from dist/src/version.js (installed). For `--version` and the metrics' build info.
 */
export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'graph-device-agent') return pkg.version;
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}
