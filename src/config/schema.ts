import { z } from 'zod';
import { AUTH, BUTTON, CACHE, DEFAULTS, DEVICE, DISPLAY, GRAPH, GRAPH_JOB, LOG, NETWORK, SIGN_IN, type Section, type Setting } from './settings.js';

/**
 * The configuration file, as one zod schema. Every object is strict, so a misspelt key is an error
 * with a "did you mean" rather than a setting silently ignored. Types, ranges, defaults and
 * meanings come from settings.ts (plain data, also read by the first frame before zod loads);
 * what is written here is only what is not plain data: URLs, patterns and lists. The descriptions
 * end up in config/schema.json (json-schema.ts), for editors.
 */

// ---- a zod schema from a table of settings ----------------------------------------------------

type Base<S> =
  S extends { type: 'integer' | 'number' } ? z.ZodNumber
  : S extends { type: 'boolean' } ? z.ZodBoolean
  : S extends { type: 'enum'; values: infer V extends readonly string[] } ? z.ZodEnum<{ [K in V[number]]: K }>
  : S extends { type: 'choice'; values: infer V extends readonly number[] } ? z.ZodType<V[number]>
  : z.ZodString;
type SettingSchema<S> = S extends { default: unknown } ? z.ZodDefault<Base<S>> : z.ZodOptional<Base<S>>;
type SectionSchema<T extends Section> = z.ZodObject<{ -readonly [K in keyof T]: SettingSchema<T[K]> }, z.core.$strict>;

function setting<S extends Setting>(s: S): SettingSchema<S> {
  let base: z.ZodType;
  switch (s.type) {
    case 'integer': {
      let n = z.number().int().min(s.min);
      if (s.max !== undefined) n = n.max(s.max);
      base = n;
      break;
    }
    case 'number': {
      let n = z.number().max(s.max);
      if (s.above !== undefined) n = n.gt(s.above);
      else if (s.min !== undefined) n = n.min(s.min);
      base = n;
      break;
    }
    case 'boolean': base = z.boolean(); break;
    case 'enum': base = z.enum(s.values); break;
    // One literal per value, as before: the error message for a wrong height stays the same.
    case 'choice': base = s.values.length === 1 ? z.literal(s.values[0]) : z.union(s.values.map((v) => z.literal(v))); break;
    case 'string': {
      let text = z.string();
      if (s.minLength !== undefined) text = text.min(s.minLength);
      if (s.maxLength !== undefined) text = text.max(s.maxLength);
      base = text;
      break;
    }
  }
  const withDefault = 'default' in s && s.default !== undefined ? base.default(s.default as never) : base.optional();
  return withDefault.describe(s.doc) as unknown as SettingSchema<S>;
}

function section<T extends Section>(table: T): SectionSchema<T> {
  return z.strictObject(Object.fromEntries(Object.entries(table).map(([k, s]) => [k, setting(s)]))) as unknown as SectionSchema<T>;
}

// ---- what is not plain data --------------------------------------------------------------------

const httpsUrl = z.string().refine((v) => {
  try {
    return new URL(v).protocol === 'https:';
  } catch {
    return false;
  }
}, { message: 'expected an https:// URL' }).meta({ format: 'uri', pattern: '^https://' });

export const ProtocolModes = AUTH.protocolMode.values;

export const AuthSchema = z.strictObject({
  // Entra's are GUIDs; other RFC 8628 servers use other shapes, so only printable ASCII is required.
  clientId: z.string().regex(/^[\x21-\x7e]{1,256}$/, { message: 'expected a client id without spaces' })
    .describe('the app registration\'s Application (client) ID'),
  authority: httpsUrl.default(DEFAULTS.authority)
    .describe('https://HOST/TENANT: "organizations" (work/school), "common", "consumers", or a tenant id or domain. Must be HTTPS'),
  scopes: z.array(z.string().min(1)).min(1).default([...DEFAULTS.scopes])
    .describe('the Graph permissions to ask for ("openid profile offline_access" are always added)'),
  knownAuthorities: z.array(z.string().min(1)).default([])
    .describe('hosts msal-node may trust without Microsoft\'s instance discovery: needed for any authority that is not a Microsoft login host (e.g. ["login.example.com:8443"])'),
  protocolMode: setting(AUTH.protocolMode),
  azureCloudOptions: z.strictObject({
    azureCloudInstance: z.string(),
    tenant: z.string().optional(),
  }).optional().describe('msal-node\'s { "azureCloudInstance": "https://login.microsoftonline.us", "tenant": "..." } for national clouds'),
  /** JSON strings, passed to msal-node as they are (they skip discovery requests). */
  cloudDiscoveryMetadata: z.string().optional().describe('msal-node\'s JSON string that skips the cloud discovery request'),
  authorityMetadata: z.string().optional().describe('msal-node\'s JSON string that skips the authority metadata request'),
});

export const GraphJobSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, { message: 'expected a short name of letters, digits, "_", "-" or "."' })
    .describe('the job\'s name (`graph-device-agent run-job NAME`)'),
  schedule: z.string().min(1).describe('when to run: cron, read in UTC, e.g. "*/15 * * * *"'),
  path: z.string().startsWith('/', { message: 'expected a Graph path starting with "/", like "/me"' })
    .describe('GET baseUrl + path; may carry the current time (UTC): {now}, {now+7d}, {now-2h}'),
  line: z.string().optional().describe('a template over the answer for the screen, e.g. "Manager: {displayName}"'),
  notFoundLine: z.string().optional().describe('shown when Graph answers 404 (a user with no manager)'),
  outputFile: z.string().optional().describe('keeps the last answer as JSON for other programs (replaced atomically; a relative path is in the state directory)'),
  ...section(GRAPH_JOB).shape,
});

export const GraphSchema = z.strictObject({
  baseUrl: httpsUrl.default(DEFAULTS.graphBaseUrl)
    .describe('Graph\'s address; national clouds have their own (https://graph.microsoft.us/v1.0, https://microsoftgraph.chinacloudapi.cn/v1.0)'),
  jobs: z.array(GraphJobSchema).optional().describe('what to fetch and show; by default the user and their manager, every 15 minutes'),
  ...section(GRAPH).shape,
});

export const NetworkSchema = section(NETWORK);
export const CacheSchema = section(CACHE);
export const DisplaySchema = section(DISPLAY);
export const ButtonSchema = section(BUTTON);
export const LogSchema = section(LOG);
export const SignInSchema = section(SIGN_IN);
export const DeviceSchema = section(DEVICE);

// A missing section is `{}` parsed (prefault), so its defaults are the tables' and written once.
export const ConfigSchema = z.strictObject({
  $schema: z.string().optional().describe('the JSON Schema of this file, for editors: "./schema.json" next to it'),
  auth: AuthSchema.describe('the app registration and the identity provider'),
  graph: GraphSchema.prefault({}).describe('what to fetch and show'),
  network: NetworkSchema.prefault({}).describe('how the agent reaches the identity provider and Graph'),
  cache: CacheSchema.prefault({}).describe('the encrypted token cache'),
  display: DisplaySchema.prefault({}).describe('the screen: the OLED on I2C, or a stand-in (the terminal, a PNG file)'),
  button: ButtonSchema.prefault({}).describe('the push button'),
  log: LogSchema.prefault({}).describe('the JSON log on stdout (the journal)'),
  signIn: SignInSchema.prefault({}).describe('the device code flow\'s pace'),
  device: DeviceSchema.prefault({}).describe('which device this is'),
  stateDirectory: z.string().optional()
    .describe('where the token cache, a generated key and job outputs live; defaults to $STATE_DIRECTORY (systemd), else ~/.local/state/graph-device-agent'),
});

export type Config = z.infer<typeof ConfigSchema>;
export type GraphJobConfig = z.infer<typeof GraphJobSchema>;

/** Keys of Microsoft's Python sample's parameters.json, accepted at the top level. */
export const PythonSampleSchema = z.strictObject({
  authority: httpsUrl.optional().describe('Microsoft\'s Python sample\'s key: auth.authority'),
  client_id: z.string().optional().describe('Microsoft\'s Python sample\'s key: auth.clientId'),
  scope: z.array(z.string()).or(z.string()).optional().describe('Microsoft\'s Python sample\'s key: auth.scopes (a list, or words separated by spaces)'),
  endpoint: httpsUrl.optional().describe('Microsoft\'s Python sample\'s key: its Graph URL; the base becomes graph.baseUrl, and a path other than /me becomes a job named "endpoint"'),
});
export const PYTHON_SAMPLE_KEYS = ['authority', 'client_id', 'scope', 'endpoint'] as const;
