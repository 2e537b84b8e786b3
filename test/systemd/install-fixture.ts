import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the installer test runs against: a copy of this checkout's installer, unit, package files
 * and config examples (so the real checkout is never touched), a built-looking dist/, an empty
 * target root, and stand-ins for the commands that must not touch this machine:
 *   npm            records its calls and fakes their results (no registry, no node-gyp);
 *   systemd-creds  "seals" by writing a description of what it was given (the real one would
 *                  create this host's credential.secret);
 *   systemctl      refuses to run without --root=<the temp root>, then runs the real systemctl,
 *                  which enables and disables offline inside that root.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The fake app's CLI: just enough `keygen --out FILE` (64 hex characters, 0600, like the real one). */
const FAKE_CLI = `#!/usr/bin/env node
import fs from 'node:fs';
import crypto from 'node:crypto';
const args = process.argv.slice(2);
if (args[0] !== 'keygen' || args[1] !== '--out') { console.error('fake cli: ' + args.join(' ')); process.exit(2); }
fs.writeFileSync(args[2], crypto.randomBytes(32).toString('hex') + '\\n', { mode: 0o600, flag: 'wx' });
console.log('wrote a new token-cache key to ' + args[2]);
`;

const NPM_STUB = `#!/usr/bin/env bash
set -euo pipefail
printf '%s|%s\\n' "$PWD" "$*" >>"$STUB_LOG"
case "$*" in
  "ci --ignore-scripts"*) mkdir -p node_modules/.bin && printf '#!/bin/sh\\n' >node_modules/.bin/tsc && chmod +x node_modules/.bin/tsc ;;
  "run build") mkdir -p dist/src && cp "$FAKE_CLI" dist/src/cli.js && printf 'export {};\\n' >dist/src/log.js ;;
  "ci --omit=dev"*) mkdir -p node_modules/pino && printf '{"name":"pino"}\\n' >node_modules/pino/package.json ;;
  *) echo "npm stub: unexpected: $*" >&2; exit 1 ;;
esac
`;

const CREDS_STUB = `#!/usr/bin/env bash
set -euo pipefail
printf 'systemd-creds|%s\\n' "$*" >>"$STUB_LOG"
[[ "\${STUB_CREDS_FAIL:-}" == 1 ]] && { echo "No TPM2 and cannot create the host key" >&2; exit 1; }
[[ "$1" == encrypt ]] || exit 2
name="\${2#--name=}"
key="$(cat "$3")"
valid=no
[[ "$key" =~ ^[0-9a-f]{64}$ ]] && valid=yes
printf 'sealed name=%s valid-key=%s\\n' "$name" "$valid" >"$4"
`;

const SYSTEMCTL_STUB = `#!/usr/bin/env bash
set -euo pipefail
printf 'systemctl|%s\\n' "$*" >>"$STUB_LOG"
[[ "$1" == "--root=$DESTDIR" ]] || { echo "systemctl stub: refusing to touch this machine: $*" >&2; exit 99; }
exec systemctl "$@"
`;

export interface Fixture {
  /** The fake checkout: systemd/install.sh lives here. */
  checkout: string;
  /** The target root (DESTDIR). */
  root: string;
  stubLog: string;
  run(args?: string[], env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  /** The calls the stubs recorded, as "cwd|args" / "systemd-creds|args" / "systemctl|args". */
  calls(): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function makeFixture(): Promise<Fixture> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'install-sh-'));
  const checkout = path.join(base, 'checkout');
  const root = path.join(base, 'root');
  const stubs = path.join(base, 'stubs');
  const stubLog = path.join(base, 'stub.log');
  await mkdir(path.join(checkout, 'systemd'), { recursive: true });
  await mkdir(path.join(checkout, 'dist/src'), { recursive: true });
  await mkdir(path.join(checkout, 'src'), { recursive: true });
  await mkdir(stubs);
  for (const file of ['systemd/install.sh', 'systemd/graph-device-agent.service', 'package.json', 'package-lock.json']) {
    await cp(path.join(repo, file), path.join(checkout, file));
  }
  await cp(path.join(repo, 'config'), path.join(checkout, 'config'), { recursive: true });
  await writeFile(path.join(checkout, 'src/cli.ts'), '// the sources, older than the build\n');
  await writeFile(path.join(checkout, 'tsconfig.json'), '{}\n');
  await writeFile(path.join(stubs, 'fake-cli.js'), FAKE_CLI);
  await writeFile(path.join(checkout, 'dist/src/cli.js'), FAKE_CLI);
  await writeFile(path.join(checkout, 'dist/src/log.js'), 'export {};\n');
  // A build newer than its sources: the installer must not rebuild.
  const old = new Date('2024-01-01T00:00:00Z');
  for (const file of ['src/cli.ts', 'src', 'tsconfig.json', 'package.json', 'package-lock.json']) {
    await utimes(path.join(checkout, file), old, old);
  }
  await writeFile(path.join(stubs, 'npm'), NPM_STUB);
  await writeFile(path.join(stubs, 'systemd-creds'), CREDS_STUB);
  await writeFile(path.join(stubs, 'systemctl'), SYSTEMCTL_STUB);
  for (const stub of ['npm', 'systemd-creds', 'systemctl']) await chmod(path.join(stubs, stub), 0o755);
  // Raspberry Pi OS has these groups; the unit's SupplementaryGroups= needs them.
  await mkdir(path.join(root, 'etc'), { recursive: true });
  await writeFile(path.join(root, 'etc/group'), 'root:x:0:\ninput:x:101:\ni2c:x:998:pi\ngpio:x:997:pi\n');

  return {
    checkout,
    root,
    stubLog,
    run(args = [], env = {}) {
      const result = spawnSync('bash', [path.join(checkout, 'systemd/install.sh'), ...args], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          DESTDIR: root,
          NPM: path.join(stubs, 'npm'),
          SYSTEMD_CREDS: path.join(stubs, 'systemd-creds'),
          SYSTEMCTL: path.join(stubs, 'systemctl'),
          NODE: process.execPath,
          STUB_LOG: stubLog,
          FAKE_CLI: path.join(stubs, 'fake-cli.js'),
          ...env,
        },
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    async calls() {
      try {
        return (await readFile(stubLog, 'utf8')).trimEnd().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    dispose: () => rm(base, { recursive: true, force: true }),
  };
}

export interface Entry {
  path: string;
  type: 'dir' | 'file' | 'link';
  mode: string;
  uid: number;
  gid: number;
  /** sha256 of a file, target of a link. */
  content?: string;
}

/** Everything under `root`: type, mode, owner and content hash, sorted by path. */
export async function listTree(root: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const stat = await lstat(full);
      const entry: Entry = {
        path: path.relative(root, full),
        type: stat.isSymbolicLink() ? 'link' : stat.isDirectory() ? 'dir' : 'file',
        mode: (stat.mode & 0o7777).toString(8).padStart(4, '0'),
        uid: stat.uid,
        gid: stat.gid,
      };
      if (entry.type === 'file') entry.content = createHash('sha256').update(await readFile(full)).digest('hex');
      if (entry.type === 'link') entry.content = await readlink(full);
      entries.push(entry);
      if (entry.type === 'dir') await walk(full);
    }
  }
  await walk(root);
  return entries;
}

export function entry(entries: Entry[], relative: string): Entry {
  const found = entries.find((e) => e.path === relative);
  if (!found) throw new Error(`${relative} is missing; the tree has:\n${entries.map((e) => e.path).join('\n')}`);
  return found;
}
