import { existsSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import cron from 'node-cron';
import type { z } from 'zod';
import {
  ConfigSchema, AuthSchema, GraphSchema, GraphJobSchema, NetworkSchema, CacheSchema, DisplaySchema,
  ButtonSchema, LogSchema, SignInSchema, MetricsSchema, PythonSampleSchema, PYTHON_SAMPLE_KEYS, type Config,
} from './schema.js';
import { ConfigError } from './errors.js';
import { closestMatch } from './did-you-mean.js';
import { FileRefusedError, MAX_CONFIG_BYTES, readRegularFile } from './files.js';
import { checkFilePaths, checkPathText } from './paths.js';
import { MICROSOFT_LOGIN_HOSTS, checkAuthorityEndpoints, checkGraphUrl } from './hosts.js';
import { withEnvOverrides } from './env-overrides.js';
import { DEFAULT_JOBS, validateJobs } from '../graph/jobs.js';
import { defaultDeviceLabel } from './settings.js';

/** A validated configuration with every path made absolute and every default filled in. */
export interface ResolvedConfig extends Config {
  configFile: string | undefined;
  stateDirectory: string;
  /** The second folder the agent may write to, absolute; undefined when not set. */
  outputDirectory?: string;
  cache: Config['cache'] & { path: string; keyFile: string };
  /** The label is the hostname when none is configured. */
  device: Config['device'] & { label: string };
  /** The time zone is the device's when none is configured. */
  graph: Config['graph'] & { timeZone: string };
}

/**
 * The zone Graph is asked to give times in when `graph.timeZone` is not set: the device's (TZ,
 * else /etc/localtime, as Intl reads them), UTC when it has none.
 */
export function deviceTimeZone(env: NodeJS.ProcessEnv = process.env): string {
  const tz = env.TZ?.replace(/^:/, '');
  if (tz && isIanaZone(tz)) return tz;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function isIanaZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A zone name Graph's Prefer header can carry: IANA ("Europe/Berlin") or Windows ("W. Europe Standard Time"). */
const TIME_ZONE_NAME = /^[A-Za-z0-9_ .()+\-/]+$/;

export { defaultConfigCandidates, findConfigFile } from './locate.js';

/** Deeper than any configuration needs (it has three levels), far below what would exhaust the stack. */
export const MAX_CONFIG_DEPTH = 32;

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  return parseConfig(parseConfigText(readConfigText(file), file), { file, env });
}

/** The configuration file's text: a regular file of at most 1 MiB, or a ConfigError that says what it is instead. */
export function readConfigText(file: string): string {
  try {
    return readRegularFile(file, { maxBytes: MAX_CONFIG_BYTES }).data.toString('utf8');
  } catch (err) {
    if (!(err instanceof FileRefusedError)) throw err;
    const code = err.code;
    const fix = code === 'ENOENT' || code === 'ENOTDIR' ? 'check the path, or copy config/config.example.json there'
      : code === 'EACCES' ? `let the service user read it (chmod 640 ${file}; chgrp to the service's group)`
      : err.refusal === 'too-large' ? 'a configuration is a few kilobytes: check that this is the right file'
      : 'pass the path of the JSON configuration file';
    if (err.refusal === 'missing' || err.refusal === 'unreadable') {
      throw new ConfigError(file, [`cannot read the configuration file (${code ?? 'error'}): ${fix}`]);
    }
    throw new ConfigError(file, [`the configuration file ${err.what}: ${fix}`]);
  }
}

/** JSON.parse, after a cheap scan that refuses absurd nesting (which would exhaust the stack of whatever walks it next). */
export function parseConfigText(text: string, file: string | undefined): unknown {
  const depth = nestingDepth(text, MAX_CONFIG_DEPTH);
  if (depth > MAX_CONFIG_DEPTH) {
    throw new ConfigError(file, [`not valid JSON for a configuration: objects or lists are nested more than ${MAX_CONFIG_DEPTH} deep: fix the file (a configuration has three levels)`]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid JSON: ${(err as Error).message}${jsonPosition(text, err as Error)}: fix the syntax (a trailing comma or a missing quote is the usual cause)`]);
  }
}

/** The deepest nesting of objects and lists in JSON text (strings skipped); stops counting past `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

export function parseConfig(raw: unknown, options: { file?: string; env?: NodeJS.ProcessEnv } = {}): ResolvedConfig {
  // GDA_SECTION__KEY variables over the file, checked with it (config/env-overrides.ts).
  return withEnvOverrides(raw, options.env ?? process.env, options.file, (merged) => parseConfigObject(merged, options));
}

function parseConfigObject(raw: unknown, options: { file?: string; env?: NodeJS.ProcessEnv }): ResolvedConfig {
  const file = options.file;
  const env = options.env ?? process.env;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, ['the file must hold one JSON object, like {"auth": {"clientId": "..."}}']);
  }
  const problems: string[] = [];
  const normalized = fromPythonSample(raw as Record<string, unknown>, problems);
  const parsed = ConfigSchema.safeParse(normalized, { reportInput: true });
  if (!parsed.success) {
    problems.push(...withoutMisspeltMissing(parsed.error.issues).flatMap(describeIssue));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(file, problems);

  const config = parsed.data;
  checkSemantics(config, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return resolvePaths(config, file, env, problems);
}

/**
 * Microsoft's Python sample keeps `authority`, `client_id`, `scope` and `endpoint` at the top
 * level. They map onto our sections; a file may mix both styles as long as they agree.
 */
function fromPythonSample(raw: Record<string, unknown>, problems: string[]): Record<string, unknown> {
  const sampleKeys = PYTHON_SAMPLE_KEYS.filter((k) => k in raw);
  if (sampleKeys.length === 0) return raw;
  const sample: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) ((PYTHON_SAMPLE_KEYS as readonly string[]).includes(k) ? sample : rest)[k] = v;
  const parsed = PythonSampleSchema.safeParse(sample, { reportInput: true });
  if (!parsed.success) {
    problems.push(...parsed.error.issues.flatMap(describeIssue));
    // Keep the keys that are fine, so their fields are not reported missing as well.
    for (const issue of parsed.error.issues) if (typeof issue.path[0] === 'string') delete sample[issue.path[0]];
  }
  const s = PythonSampleSchema.parse(sample);
  const auth = { ...(isObject(rest.auth) ? rest.auth : {}) } as Record<string, unknown>;
  const graph = { ...(isObject(rest.graph) ? rest.graph : {}) } as Record<string, unknown>;
  const merge = (target: Record<string, unknown>, key: string, value: unknown, sampleKey: string, section: string): void => {
    if (value === undefined) return;
    if (target[key] !== undefined && JSON.stringify(target[key]) !== JSON.stringify(value)) {
      problems.push(`${sampleKey}: ${JSON.stringify(value)} disagrees with ${section}.${key} ${JSON.stringify(target[key])}: keep one of them`);
      return;
    }
    target[key] = value;
  };
  merge(auth, 'authority', s.authority, 'authority', 'auth');
  merge(auth, 'clientId', s.client_id, 'client_id', 'auth');
  if (s.scope !== undefined) merge(auth, 'scopes', typeof s.scope === 'string' ? s.scope.split(/\s+/).filter(Boolean) : s.scope, 'scope', 'auth');
  const endpointProblems: string[] = [];
  if (s.endpoint !== undefined) {
    // Checked as written: its origin alone would drop a user-info ("graph.microsoft.com@evil.example").
    const allowed = isObject(rest.graph) && Array.isArray(rest.graph.allowedHosts) ? rest.graph.allowedHosts.filter((h): h is string => typeof h === 'string') : [];
    checkGraphUrl('endpoint', s.endpoint, allowed, endpointProblems, { allowQuery: true });
    problems.push(...endpointProblems);
  }
  if (s.endpoint !== undefined && endpointProblems.length === 0) {
    // "https://graph.microsoft.com/v1.0/users" → base "https://graph.microsoft.com/v1.0", a job for "/users".
    const url = new URL(s.endpoint);
    const [, version, ...rest2] = url.pathname.split('/');
    merge(graph, 'baseUrl', `${url.origin}/${version ?? 'v1.0'}`, 'endpoint', 'graph');
    const jobPath = `/${rest2.join('/')}${url.search}`;
    if (!graph.jobs && jobPath !== '/me' && jobPath !== '/') {
      graph.jobs = [...DEFAULT_JOBS, { name: 'endpoint', schedule: '*/15 * * * *', path: jobPath }];
    }
  }
  return { ...rest, auth, ...(Object.keys(graph).length > 0 ? { graph } : {}) };
}

function checkSemantics(config: Config, problems: string[]): void {
  const authority = new URL(config.auth.authority);
  if (authority.username !== '' || authority.password !== '' || authority.search !== '' || authority.hash !== '') {
    // Before the host checks: "login.microsoftonline.com@evil.example" is evil.example's.
    checkAuthorityEndpoints(config.auth, problems);
    return;
  }
  if (authority.pathname === '/' || authority.pathname === '') {
    problems.push(`auth.authority: ${JSON.stringify(config.auth.authority)} has no tenant: add one, e.g. ${authority.origin}/organizations`);
  }
  if (!MICROSOFT_LOGIN_HOSTS.includes(authority.hostname) && !config.auth.authorityMetadata
      && !config.auth.knownAuthorities.some((h) => h === authority.host || h === authority.hostname)) {
    problems.push(`auth.knownAuthorities: the authority host ${authority.host} is not a Microsoft login host, so msal-node will refuse it: add "${authority.host}" to auth.knownAuthorities`);
  }
  for (const field of ['cloudDiscoveryMetadata', 'authorityMetadata'] as const) {
    const value = config.auth[field];
    if (value === undefined) continue;
    try {
      JSON.parse(value);
    } catch {
      problems.push(`auth.${field}: not a JSON string: paste the discovery document as a JSON-encoded string`);
    }
  }
  if (problems.length === 0) checkAuthorityEndpoints(config.auth, problems);
  checkGraphUrl('graph.baseUrl', config.graph.baseUrl, config.graph.allowedHosts, problems);
  (config.graph.jobs ?? []).forEach((job, i) => {
    if (!cron.validate(job.schedule)) {
      problems.push(`graph.jobs[${i}].schedule: ${JSON.stringify(job.schedule)} of job "${job.name}" is not a cron expression: use five or six fields, e.g. "*/15 * * * *" (every 15 minutes)`);
    }
    // Paths, time placeholders and screen templates, checked the way the jobs will use them.
    for (const problem of validateJobs([{ ...job, schedule: '* * * * *' }])) {
      problems.push(`graph.jobs[${i}]: ${problem}: fix the job's path or line template`);
    }
  });
  const names = (config.graph.jobs ?? []).map((j) => j.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) problems.push(`graph.jobs: two jobs are named "${dup}": give each job its own name`);
  if (config.display.driver === 'png' && !config.display.pngPath) {
    problems.push('display.pngPath: the png display needs a file to write: set display.pngPath, e.g. "/run/graph-device-agent/screen.png"');
  }
}

function resolvePaths(config: Config, file: string | undefined, env: NodeJS.ProcessEnv, problems: string[]): ResolvedConfig {
  // Text that cannot be a path at all is refused before any file system call sees it.
  const texts: Array<[string, string | undefined]> = [
    ['stateDirectory', config.stateDirectory], ['outputDirectory', config.outputDirectory], ['cache.path', config.cache.path],
    ['cache.keyFile', config.cache.keyFile], ['network.caFile', config.network.caFile], ['display.pngPath', config.display.pngPath],
    ...(config.graph.jobs ?? []).map((j, i): [string, string | undefined] => [`graph.jobs[${i}].outputFile`, j.outputFile]),
  ];
  for (const [field, value] of texts) checkPathText(field, value, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);

  const base = file ? path.dirname(file) : process.cwd();
  const abs = (p: string): string => path.resolve(base, p);
  const stateDirectory = config.stateDirectory ? abs(config.stateDirectory)
    // systemd's StateDirectory= sets STATE_DIRECTORY (a colon-separated list; ours has one entry).
    : env.STATE_DIRECTORY ? env.STATE_DIRECTORY.split(':')[0]!
    : path.join(env.XDG_STATE_HOME ?? path.join(homedir(), '.local', 'state'), 'graph-device-agent');
  const outputDirectory = config.outputDirectory ? abs(config.outputDirectory) : undefined;
  const credential = env.CREDENTIALS_DIRECTORY ? path.join(env.CREDENTIALS_DIRECTORY, 'token-cache-key') : undefined;
  const defaultKeyFile = path.join(stateDirectory, 'token-cache.key');
  const keyFile = config.cache.keyFile ? abs(config.cache.keyFile)
    : credential && existsSync(credential) ? credential
    : defaultKeyFile;
  const caFile = config.network.caFile ? abs(config.network.caFile) : undefined;
  const cachePath = config.cache.path ? abs(config.cache.path) : path.join(stateDirectory, 'token-cache.bin');
  // A job output is data: relative to the state directory, not to /etc (pngPath: to the file, as always).
  const display = resolveDisplay(config.display, file);
  const jobs = config.graph.jobs?.map((j) => ({ ...j, ...(j.outputFile ? { outputFile: path.resolve(stateDirectory, j.outputFile) } : {}) }));
  checkFilePaths({
    configFile: file, stateDirectory, outputDirectory, cachePath, keyFile, defaultKeyFile, caFile, pngPath: display.pngPath,
    pngGiven: config.display.pngPath,
    outputs: (jobs ?? []).flatMap((j, i) => (j.outputFile ? [{ field: `graph.jobs[${i}].outputFile`, given: config.graph.jobs![i]!.outputFile!, file: j.outputFile }] : [])),
  }, problems);
  if (config.graph.timeZone !== undefined && !TIME_ZONE_NAME.test(config.graph.timeZone)) {
    problems.push(`graph.timeZone: ${JSON.stringify(config.graph.timeZone)} is not a time zone name: use an IANA name such as "Europe/Berlin" or a Windows one such as "W. Europe Standard Time"`);
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return {
    ...config,
    configFile: file,
    stateDirectory,
    ...(outputDirectory ? { outputDirectory } : {}),
    network: { ...config.network, ...(caFile ? { caFile } : {}) },
    cache: { ...config.cache, path: cachePath, keyFile },
    display,
    graph: { ...config.graph, timeZone: config.graph.timeZone ?? deviceTimeZone(env), jobs },
    device: { ...config.device, label: config.device.label ?? defaultDeviceLabel(hostname()) },
    notify: {
      ...config.notify,
      targets: config.notify.targets.map((t) => ({ ...t, ...(t.bearerTokenFile ? { bearerTokenFile: abs(t.bearerTokenFile) } : {}) })),
    },
  };
}

/**
 * The display section as the agent uses it: "auto" decided (the terminal when there is one, else
 * none) and `pngPath` made absolute: relative to `base` (the state directory, for the agent), else
 * to the configuration file's folder. hw-test uses it too when only the hardware sections of a file load.
 */
export function resolveDisplay(display: Config['display'], file: string | undefined, base?: string): Config['display'] {
  return {
    ...display,
    driver: display.driver === 'auto' ? (process.stdout.isTTY ? 'terminal' : 'none') : display.driver,
    ...(display.pngPath ? { pngPath: path.resolve(base ?? (file ? path.dirname(file) : process.cwd()), display.pngPath) } : {}),
  };
}

// ---- turning zod issues into one line each: field, bad value, fix ----------------------------

const KNOWN_KEYS: Record<string, string[]> = {
  '': [...Object.keys(ConfigSchema.shape), ...PYTHON_SAMPLE_KEYS],
  auth: Object.keys(AuthSchema.shape),
  graph: Object.keys(GraphSchema.shape),
  'graph.jobs.*': Object.keys(GraphJobSchema.shape),
  network: Object.keys(NetworkSchema.shape),
  cache: Object.keys(CacheSchema.shape),
  display: Object.keys(DisplaySchema.shape),
  button: Object.keys(ButtonSchema.shape),
  log: Object.keys(LogSchema.shape),
  signIn: Object.keys(SignInSchema.shape),
  metrics: Object.keys(MetricsSchema.shape),
};

const FIXES: Record<string, string> = {
  auth: 'add an "auth" section with at least "clientId" (or the Python sample\'s "client_id")',
  'auth.clientId': 'copy the Application (client) ID from the app registration\'s Overview page in the Entra admin center',
  'auth.authority': 'use https://login.microsoftonline.com/<tenant> with "organizations", "common", "consumers" or your tenant id',
  'auth.scopes': 'list Graph permissions, e.g. ["User.Read"]',
  'graph.splay': 'use "auto", "off", or the longest delay in seconds (0 to 86400)',
  'graph.baseUrl': 'use https://graph.microsoft.com/v1.0 (or your national cloud\'s Graph host)',
  'display.height': 'use 64 for 0.96" 128x64 modules or 32 for 128x32 ones',
  'display.address': 'use 60 (0x3C) or 61 (0x3D); `sudo i2cdetect -y 1` shows which answers',
  'button.bcmPin': 'use the BCM GPIO number (GPIO17 is header pin 11), not the header pin number',
};

function dottedPath(p: readonly PropertyKey[]): string {
  return p.map((k) => (typeof k === 'number' ? `[${k}]` : String(k))).join('.').replace(/\.\[/g, '[');
}

/** The Python sample's keys, as the fields they fill. */
const SAMPLE_TARGETS: Record<string, string> = { client_id: 'auth.clientId', scope: 'auth.scopes', authority: 'auth.authority' };

/**
 * "clientid: did you mean client_id?" already says what "auth.clientId is missing" would: drop a
 * missing field that an unknown key next to it is a misspelling of. One mistake, one line.
 */
function withoutMisspeltMissing(issues: z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const meant = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const pattern = issue.path.map((k) => (typeof k === 'number' ? '*' : String(k))).join('.');
    for (const key of issue.keys) {
      const guess = closestMatch(key, KNOWN_KEYS[pattern] ?? []);
      if (!guess) continue;
      const target = pattern === '' && SAMPLE_TARGETS[guess] ? SAMPLE_TARGETS[guess] : dottedPath([...issue.path, guess]);
      meant.add(target);
    }
  }
  return issues.filter((issue) => !(issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined && meant.has(dottedPath(issue.path))));
}

/** One line per problem (an unknown-keys issue names several keys: one line each). */
function describeIssue(issue: z.core.$ZodIssue): string | string[] {
  const at = dottedPath(issue.path);
  const pattern = issue.path.map((k) => (typeof k === 'number' ? '*' : String(k))).join('.');
  const fix = FIXES[pattern.replace(/\.\*/g, '')] ?? FIXES[pattern];
  const input = 'input' in issue ? (issue as { input?: unknown }).input : undefined;
  const shown = input === undefined ? 'nothing' : shorten(JSON.stringify(input) ?? String(input));
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = KNOWN_KEYS[pattern] ?? [];
      return issue.keys.map((key) => {
        const where = at ? `${at}.${shorten(key)}` : shorten(key);
        const guess = closestMatch(key, known);
        return guess ? `${where}: unknown setting: did you mean "${guess}"?`
          : `${where}: unknown setting: remove it (known here: ${known.join(', ')})`;
      });
    }
    case 'invalid_type': {
      // A fraction where a whole number belongs: the message of the setting's range (settings.ts) says more than "expected int".
      const what = input === undefined ? 'is missing'
        : typeof input === 'number' && issue.message.startsWith('expected a whole number') ? `is ${shown}, ${issue.message}`
        : `is ${shown}, expected ${issue.expected}`;
      return `${at || '(top level)'}: ${what}${fix ? `: ${fix}` : ''}`;
    }
    default:
      if (input === undefined) return `${at || '(top level)'}: is missing${fix ? `: ${fix}` : ''}`;
      return `${at || '(top level)'}: ${shown} is not valid (${issue.message.replace(/^Invalid input: /, '')})${fix ? `: ${fix}` : ''}`;
  }
}

/** A value or key as shown in a message: at most 80 characters of it. */
function shorten(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 60)}\u2026 (${text.length} characters)`;
}

function jsonPosition(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return '';
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
