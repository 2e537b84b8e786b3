import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceNodeFlags } from '../support/service-flags.js';

/**
 * No Docker engine here, so the image is never built in CI. These checks keep Dockerfile.arm64
 * honest against the project it builds: the commands CI proves, paths that exist, a context that
 * contains what COPY needs, a non-root user.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = readFileSync(path.join(repo, 'Dockerfile.arm64'), 'utf8');
// Instructions with their continuation lines joined, comments dropped.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const stages = instructions.join('\n').split(/^FROM /m).slice(1).map((s) => `FROM ${s}`.split('\n'));
const [buildStage = [], runtimeStage = []] = stages;

function execForm(instruction: string): string[] {
  const json = instruction.slice(instruction.indexOf('['));
  return JSON.parse(json) as string[];
}

test('two arm64 stages: build and runtime', () => {
  assert.equal(stages.length, 2);
  assert.match(buildStage[0] ?? '', /^FROM --platform=linux\/arm64 node:20-bookworm AS build$/);
  assert.match(runtimeStage[0] ?? '', /^FROM --platform=linux\/arm64 node:20-bookworm-slim AS runtime$/);
});

test('the build stage runs the commands CI runs, then drops the devDependencies', () => {
  const run = buildStage.filter((l) => l.startsWith('RUN ')).join(' ');
  const order = ['npm ci ', 'npm run build', 'npm prune --omit=dev'].map((c) => run.indexOf(c));
  assert.ok(order.every((i) => i >= 0), `missing one of npm ci / npm run build / npm prune --omit=dev in: ${run}`);
  assert.deepEqual([...order].sort((a, b) => a - b), order);
  const ci = readFileSync(path.join(repo, '.ci/run'), 'utf8');
  assert.match(ci, /npm ci --no-audit --no-fund/);
  assert.match(run, /npm ci --no-audit --no-fund/);
});

test('everything COPY takes from the context exists and passes .dockerignore', () => {
  const patterns = readFileSync(path.join(repo, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  // The file is an allow-list: "*" then "!name" lines.
  assert.equal(patterns[0], '*');
  const allowed = patterns.slice(1).map((p) => {
    assert.ok(p.startsWith('!'), `unexpected .dockerignore pattern ${p}`);
    return p.slice(1);
  });
  const sources = instructions
    .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));
  assert.ok(sources.length > 0);
  for (const source of sources) {
    assert.ok(existsSync(path.join(repo, source)), `${source} does not exist`);
    assert.ok(allowed.some((a) => source === a || source.startsWith(`${a}/`)), `${source} is excluded by .dockerignore`);
  }
  // tsc needs every file tsconfig.build.json includes.
  const build = JSON.parse(readFileSync(path.join(repo, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  for (const dir of build.include) assert.ok(sources.includes(dir), `tsconfig.build.json includes ${dir}, which is not copied`);
});

test('the runtime runs the installed CLI as a non-root user under tini, with a healthcheck that exists', () => {
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const cmd = execForm(runtimeStage.find((l) => l.startsWith('CMD ')) ?? '');
  // The same node flags as the systemd unit (V8's lite mode: the memory figure of `npm run bench`).
  const flags = serviceNodeFlags();
  assert.ok(flags.includes('--lite-mode'), `the unit's node flags: ${flags.join(' ')}`);
  assert.deepEqual(cmd.slice(0, 3 + flags.length), ['node', ...flags, `/opt/graph-device-agent/${pkg.bin['graph-device-agent']}`, 'run']);
  assert.deepEqual(execForm(runtimeStage.find((l) => l.startsWith('ENTRYPOINT ')) ?? ''), ['/usr/bin/tini', '--']);
  const user = runtimeStage.filter((l) => l.startsWith('USER ')).at(-1);
  assert.ok(user && !/^USER (root|0)(:|$)/.test(user), `runtime user: ${user}`);

  const health = runtimeStage.find((l) => l.startsWith('HEALTHCHECK ')) ?? '';
  const script = execForm(health.slice(health.indexOf('CMD '))).find((a) => a.endsWith('.js')) ?? '';
  const source = script.replace('/opt/graph-device-agent/dist/', '').replace(/\.js$/, '.ts');
  assert.ok(existsSync(path.join(repo, source)), `the healthcheck ${script} is built from ${source}, which does not exist`);

  const env = runtimeStage.find((l) => l.startsWith('ENV ')) ?? '';
  assert.match(env, /STATE_DIRECTORY=\/var\/lib\/graph-device-agent/);
  assert.match(env, /CREDENTIALS_DIRECTORY=\/run\/secrets/);
  assert.ok(runtimeStage.includes('VOLUME ["/var/lib/graph-device-agent"]'));
});
