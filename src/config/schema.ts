import { z } from 'zod';
import { AUTH, BUTTON, CACHE, DEFAULTS, DEVICE, DISPLAY, GRAPH, GRAPH_JOB, GRAPH_SPLAY, LOG, METRICS, NETWORK, NOTIFY, SIGN_IN, type Section, type Setting } from './settings.js';

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
      // One message that says the whole range, whichever end was missed.
      const range = { error: s.max !== undefined ? `expected a whole number from ${s.min} to ${s.max}` : `expected a whole number >= ${s.min}` };
      let n = z.number().int(range).min(s.min, range);
      if (s.max !== undefined) n = n.max(s.max, range);
      base = n;
      break;
    }
    case 'number': {
      const range = { error: s.above !== undefined ? `expected a number above ${s.above}, up to ${s.max}` : `expected a number from ${s.min ?? '-Infinity'} to ${s.max}` };
      let n = z.number().max(s.max, range);
      if (s.above !== undefined) n = n.gt(s.above, range);
      else if (s.min !== undefined) n = n.min(s.min, range);
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
  scopes: z.array(z.string().min(1).max(200)).min(1).max(50).default([...DEFAULTS.scopes])
    .describe('the Graph permissions to ask for ("openid profile offline_access" are always added)'),
  knownAuthorities: z.array(z.string().min(1).max(260)).max(20).default([])
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
  schedule: z.string().min(1).max(100).describe('when to run: cron, read in UTC, e.g. "*/15 * * * *"'),
  path: z.string().startsWith('/', { message: 'expected a Graph path starting with "/", like "/me"' }).max(2048)
    .describe('GET baseUrl + path; may carry the current time (UTC): {now}, {now+7d}, {now-2h}'),
  line: z.string().max(500).optional().describe('a template over the answer for the screen, e.g. "Manager: {displayName}"'),
  notFoundLine: z.string().max(500).optional().describe('shown when Graph answers 404 (a user with no manager)'),
  outputFile: z.string().optional().describe('keeps the last answer as JSON for other programs (replaced atomically; a relative path is in the state directory; it must stay inside the state directory or outputDirectory)'),
  ...section(GRAPH_JOB).shape,
});

/** More jobs than a 128x64 screen can show, and each one a request on its schedule. */
export const MAX_JOBS = 50;

export const GraphSchema = z.strictObject({
  baseUrl: httpsUrl.default(DEFAULTS.graphBaseUrl)
    .describe('Graph\'s address; national clouds have their own (https://graph.microsoft.us/v1.0, https://microsoftgraph.chinacloudapi.cn/v1.0). The access token goes there: any host but Microsoft\'s Graph hosts must be listed in graph.allowedHosts'),
  allowedHosts: z.array(z.string().regex(/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/, { message: 'expected a host name, or host:port' })).max(20).default([])
    .describe('hosts other than Microsoft\'s Graph hosts (graph.microsoft.com, graph.microsoft.us, dod-graph.microsoft.us, microsoftgraph.chinacloudapi.cn) that graph.baseUrl may name, e.g. ["graph.example.com:8443"]: they receive the access token'),
  jobs: z.array(GraphJobSchema).max(MAX_JOBS, { error: `expected at most ${MAX_JOBS} jobs` }).optional().describe(`what to fetch and show; by default the user and their manager, every 15 minutes (at most ${MAX_JOBS} jobs)`),
  splay: z.union([z.enum(GRAPH_SPLAY.words), z.number().min(0).max(GRAPH_SPLAY.maxSec)]).default(GRAPH_SPLAY.default)
    .describe(GRAPH_SPLAY.doc),
  ...section(GRAPH).shape,
});

export const NetworkSchema = section(NETWORK);
export const CacheSchema = section(CACHE);
export const DisplaySchema = section(DISPLAY);
export const ButtonSchema = section(BUTTON);
export const LogSchema = section(LOG);
export const SignInSchema = section(SIGN_IN);
export const MetricsSchema = section(METRICS);

export const DeviceSchema = section(DEVICE);

/** The events a notification target can be limited to (src/notify/notification.ts names them). */
export const NOTIFY_EVENTS = ['signin.needed', 'signin.succeeded', 'graph.failing', 'graph.recovered', 'signin.refresh_old', 'device.display_failed', 'device.button_failed', 'test'] as const;

/** Headers that carry credentials: never written in the configuration (a file or a credential instead). */
const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie|x-api-key|x-auth-token)$/i;

/**
 * A notification target's address: https, or plain http to the loopback address only
 * (127.0.0.1 or [::1], a relay on the device itself): nothing leaves the device unencrypted.
 */
const targetUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    if (u.username !== '' || u.password !== '') return false;
    return u.protocol === 'https:' || (u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === '[::1]'));
  } catch {
    return false;
  }
}, { message: 'expected an https:// URL without a user name (plain http:// only to 127.0.0.1 or [::1])' }).meta({ format: 'uri' });

export const NotifyTargetSchema = z.strictObject({
  type: z.enum(['webhook', 'ntfy', 'homeassistant']).describe('"webhook" (a POST of the documented JSON body), "ntfy" (a topic URL), "homeassistant" (https://HOST/api/webhook/ID)'),
  url: targetUrl.describe('where to POST: the webhook, the ntfy topic (https://ntfy.sh/TOPIC) or the Home Assistant webhook URL'),
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, { message: 'expected a short name of letters, digits, "_", "-" or "."' }).optional()
    .describe('a name for logs and notify-test; defaults to the type and the host'),
  events: z.array(z.enum(NOTIFY_EVENTS)).min(1).optional().describe('send only these events; all by default'),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, { message: 'expected a header name' }).refine((h) => !SECRET_HEADERS.test(h), { message: 'a credential never goes in the configuration: use bearerTokenFile or bearerCredential' }), z.string().max(1000))
    .optional().describe('extra request headers (not secrets: those come from bearerTokenFile or bearerCredential)'),
  bearerTokenFile: z.string().optional().describe('a file holding a bearer token, sent as "Authorization: Bearer ..." (an ntfy access token, a webhook secret)'),
  bearerCredential: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'expected a credential name' }).optional()
    .describe('the name of a systemd credential ($CREDENTIALS_DIRECTORY/NAME, LoadCredential= or LoadCredentialEncrypted=) holding the bearer token'),
  priority: z.number().int().min(1).max(5).optional().describe('ntfy: the priority of every message (1-5); by default 4 for problems, 3 for the rest'),
  tags: z.array(z.string().regex(/^[A-Za-z0-9_+-]{1,40}$/)).max(5).optional().describe('ntfy: tags (emoji short codes) added to every message'),
  click: z.string().refine((v) => v.startsWith('https://'), { message: 'expected an https:// URL' }).optional().describe('ntfy: the address a tap on the message opens; by default the sign-in page for "sign-in needed"'),
}).refine((t) => t.type !== 'homeassistant' || /\/api\/webhook\/[^/]+$/.test(new URL(t.url).pathname), { message: 'a Home Assistant target is https://HOST/api/webhook/ID', path: ['url'] })
  .refine((t) => !(t.bearerTokenFile && t.bearerCredential), { message: 'choose one of bearerTokenFile and bearerCredential', path: ['bearerCredential'] });

export const NotifySchema = z.strictObject({
  targets: z.array(NotifyTargetSchema).max(10).default([]).describe('where notifications go: webhooks, ntfy topics, Home Assistant webhooks'),
  ...section(NOTIFY).shape,
});

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
  notify: NotifySchema.prefault({}).describe('notifications: tell a person when the device needs them'),
  metrics: MetricsSchema.prefault({}).describe('Prometheus metrics for node_exporter\'s textfile collector'),
  stateDirectory: z.string().optional()
    .describe('where the token cache, a generated key and job outputs live (a folder only its owner may write: 0700 or 0755); defaults to $STATE_DIRECTORY (systemd), else ~/.local/state/graph-device-agent'),
  outputDirectory: z.string().optional()
    .describe('a second folder, besides the state directory, where display.pngPath and graph.jobs[].outputFile may write (e.g. "/run/graph-device-agent"); files are written nowhere else'),
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
