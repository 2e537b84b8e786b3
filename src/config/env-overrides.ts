import type { z } from 'zod';
import { ConfigSchema } from './schema.js';
import { closestMatch } from './did-you-mean.js';
import { ConfigError } from './errors.js';

/**
 * Environment overrides of any config field, for fleet tools that deliver variables (balena's
 * fleet and device variables, compose's `environment:`, a systemd drop-in's `Environment=`).
 *
 * One naming rule: `GDA_` + the field's path, sections and keys separated by a double underscore,
 * each written in SCREAMING_SNAKE_CASE for the camelCase key: `GDA_AUTH__CLIENT_ID` is
 * `auth.clientId`, `GDA_SIGN_IN__AUTO_RENEW_CODES` is `signIn.autoRenewCodes`,
 * `GDA_STATE_DIRECTORY` is `stateDirectory`. The value is taken as text when the field accepts
 * that text, else as JSON (numbers, booleans, lists, objects): `GDA_AUTH__SCOPES='["User.Read"]'`,
 * `GDA_GRAPH__SPLAY=120`. A variable replaces the field's value in the file; the result is
 * checked by the same schema as the file, and a mistake names both the variable and the field.
 */

export const ENV_PREFIX = 'GDA_';

export interface EnvOverride {
  variable: string;
  /** The field's path, e.g. ['auth', 'clientId']. */
  path: string[];
  value: unknown;
}

/** `auth.clientId` → `GDA_AUTH__CLIENT_ID`. */
export function envVariableFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

/** `AUTH__CLIENT_ID` → ['auth', 'clientId']. */
function pathOf(name: string): string[] {
  return name.split('__').map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

/** Every field a variable can set: each section's keys, and the top-level ones (`$schema` aside). */
export function overridableFields(): string[][] {
  const fields: string[][] = [];
  for (const [key, schema] of Object.entries(ConfigSchema.shape)) {
    if (key === '$schema') continue;
    const section = objectShape(schema);
    if (section) for (const inner of Object.keys(section)) fields.push([key, inner]);
    else fields.push([key]);
  }
  return fields;
}

/**
 * The GDA_ variables in `env`, each turned into a field and a value, plus a problem line (naming
 * the variable and the field it was read as) for each one that names no field.
 */
export function readEnvOverrides(env: NodeJS.ProcessEnv): { overrides: EnvOverride[]; problems: string[] } {
  // Every field, and every section as a whole (a JSON object).
  const sections = Object.keys(ConfigSchema.shape).filter((k) => objectShape(ConfigSchema.shape[k as keyof typeof ConfigSchema.shape])).map((k) => [k]);
  const knownNames = new Map([...overridableFields(), ...sections].map((p) => [envVariableFor(p), p]));
  const overrides: EnvOverride[] = [];
  const problems: string[] = [];
  for (const [variable, text] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!variable.startsWith(ENV_PREFIX) || text === undefined) continue;
    const path = knownNames.get(variable);
    if (!path) {
      const guess = closestMatch(variable, [...knownNames.keys()]);
      const field = pathOf(variable.slice(ENV_PREFIX.length)).join('.');
      problems.push(`${variable} \u2192 ${field}: not a setting${guess ? `: did you mean ${guess} (${knownNames.get(guess)!.join('.')})?` : `: variables are ${ENV_PREFIX}SECTION__KEY, e.g. GDA_AUTH__CLIENT_ID`}`);
      continue;
    }
    overrides.push({ variable, path, value: valueFor(fieldSchema(path), text) });
  }
  return { overrides, problems };
}

/** The raw config with the overrides in place (a copy; the file's object is not changed). */
export function applyEnvOverrides(raw: Record<string, unknown>, overrides: readonly EnvOverride[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  for (const { path, value } of overrides) {
    if (path.length === 1) {
      out[path[0]!] = value;
      continue;
    }
    const [section, key] = path as [string, string];
    const current = out[section];
    out[section] = { ...(typeof current === 'object' && current !== null && !Array.isArray(current) ? current : {}), [key]: value };
  }
  return out;
}

/**
 * A problem line that starts with a field set by a variable ("auth.clientId: ..." or a field
 * inside it, "graph.jobs[0].schedule: ...") also names the variable.
 */
export function nameVariables(problem: string, overrides: readonly EnvOverride[]): string {
  for (const { variable, path } of overrides) {
    const field = path.join('.');
    const m = new RegExp(`^(${field.replace(/[.$]/g, '\\$&')})((?:[.[][^:]*)?):`).exec(problem);
    if (m) return `${variable} \u2192 ${m[1]}${m[2]}:${problem.slice(m[0].length)}`;
  }
  return problem;
}

/** Where each field's value comes from: the variable that set it, the file, or the default. */
export function valueSources(file: Record<string, unknown>, overrides: readonly EnvOverride[]): Array<{ field: string; source: string }> {
  const byPath = new Map(overrides.map((o) => [o.path.join('.'), o.variable]));
  return overridableFields().map((path) => {
    const field = path.join('.');
    const section = path.length === 2 ? byPath.get(path[0]!) : undefined;
    let inFile: unknown = file;
    for (const key of path) inFile = typeof inFile === 'object' && inFile !== null ? (inFile as Record<string, unknown>)[key] : undefined;
    const sampleKey = SAMPLE_KEY_OF[field];
    if (inFile === undefined && sampleKey !== undefined) inFile = file[sampleKey];
    const source = byPath.get(field) ?? section ?? (inFile !== undefined ? 'file' : 'default');
    return { field, source };
  });
}

/** The Python sample's top-level keys, by the field they fill: a variable for the field wins over them. */
const SAMPLE_KEY_OF: Record<string, string> = { 'auth.clientId': 'client_id', 'auth.scopes': 'scope', 'auth.authority': 'authority' };

/**
 * The config loader's step for variables: `parse` (the file's checks) runs on the file's object
 * with the GDA_ variables in place, and every problem it reports about a field a variable set
 * names that variable. A GDA_ variable that names no field is a problem too.
 */
export function withEnvOverrides<T>(raw: unknown, env: NodeJS.ProcessEnv, file: string | undefined, parse: (raw: unknown) => T): T {
  const { overrides, problems } = readEnvOverrides(env);
  if (overrides.length === 0 && problems.length === 0) return parse(raw);
  let merged = raw;
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const base = { ...(raw as Record<string, unknown>) };
    for (const { path } of overrides) {
      const sampleKey = SAMPLE_KEY_OF[path.join('.')];
      if (sampleKey) delete base[sampleKey];
    }
    merged = applyEnvOverrides(base, overrides);
  }
  try {
    const result = parse(merged);
    if (problems.length > 0) throw new ConfigError(file, problems);
    return result;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(err.file, [...problems, ...err.problems.map((p) => nameVariables(p, overrides))]);
  }
}

/** The text itself when the field accepts it, else the text read as JSON (when it is JSON). */
function valueFor(schema: z.ZodType | undefined, text: string): unknown {
  if (!schema || schema.safeParse(text).success) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Neither: the schema's message for the text says what was expected.
    return text;
  }
}

function fieldSchema(path: readonly string[]): z.ZodType | undefined {
  const top = ConfigSchema.shape[path[0] as keyof typeof ConfigSchema.shape] as z.ZodType | undefined;
  if (path.length === 1) return top;
  return objectShape(top)?.[path[1]!];
}

/** The keys of an object schema, through the default/prefault/optional wrappers around it. */
function objectShape(schema: unknown): Record<string, z.ZodType> | undefined {
  let s = schema as { shape?: Record<string, z.ZodType>; _zod?: { def?: { innerType?: unknown } } } | undefined;
  for (let i = 0; s && i < 5; i++) {
    if (s.shape) return s.shape;
    s = s._zod?.def?.innerType as typeof s;
  }
  return undefined;
}
