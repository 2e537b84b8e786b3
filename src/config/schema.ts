import { z } from 'zod';

/**
 * The configuration file, as one zod schema. Every object is strict, so a misspelt key is an error
 * with a "did you mean" rather than a setting silently ignored. Defaults live here, so the schema
 * is also the reference the README documents.
 */

const httpsUrl = z.string().refine((v) => {
  try {
    return new URL(v).protocol === 'https:';
  } catch {
    return false;
  }
}, { message: 'expected an https:// URL' });

export const ProtocolModes = ['AAD', 'OIDC', 'EAR'] as const;

export const AuthSchema = z.strictObject({
  /** The app registration's Application (client) ID. */
  // Entra's are GUIDs; other RFC 8628 servers use other shapes, so only printable ASCII is required.
  clientId: z.string().regex(/^[\x21-\x7e]{1,256}$/, { message: 'expected a client id without spaces' }),
  authority: httpsUrl.default('https://login.microsoftonline.com/organizations'),
  scopes: z.array(z.string().min(1)).min(1).default(['User.Read']),
  knownAuthorities: z.array(z.string().min(1)).default([]),
  protocolMode: z.enum(ProtocolModes).default('AAD'),
  azureCloudOptions: z.strictObject({
    azureCloudInstance: z.string(),
    tenant: z.string().optional(),
  }).optional(),
  /** JSON strings, passed to msal-node as they are (they skip discovery requests). */
  cloudDiscoveryMetadata: z.string().optional(),
  authorityMetadata: z.string().optional(),
});

export const GraphJobSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, { message: 'expected a short name of letters, digits, "_", "-" or "."' }),
  schedule: z.string().min(1),
  path: z.string().startsWith('/', { message: 'expected a Graph path starting with "/", like "/me"' }),
  line: z.string().optional(),
  notFoundLine: z.string().optional(),
  /** Keeps the last result as JSON for other programs; a relative path is in the state directory. */
  outputFile: z.string().optional(),
  timeoutSec: z.number().positive().max(300).default(30),
});

export const GraphSchema = z.strictObject({
  baseUrl: httpsUrl.default('https://graph.microsoft.com/v1.0'),
  jobs: z.array(GraphJobSchema).optional(),
});

export const NetworkSchema = z.strictObject({
  /** Extra CA certificates (PEM) trusted besides the system's: a private CA or a TLS-inspecting proxy. */
  caFile: z.string().optional(),
  timeoutSec: z.number().positive().max(300).default(30),
});

export const CacheSchema = z.strictObject({
  /** Where the encrypted token cache lives; defaults to the state directory. */
  path: z.string().optional(),
  /** A file holding the 32-byte key; defaults to the systemd credential, else the state directory. */
  keyFile: z.string().optional(),
});

export const DisplaySchema = z.strictObject({
  /** `auto`: the terminal when the agent runs in one, else none (frames never go to the journal). */
  driver: z.enum(['auto', 'ssd1306', 'terminal', 'png', 'none']).default('auto'),
  width: z.literal(128).default(128),
  height: z.union([z.literal(64), z.literal(32)]).default(64),
  /** Also write every frame to this PNG file (replaced atomically): for the `png` driver, or as a mirror. */
  pngPath: z.string().optional(),
  pngScale: z.number().int().min(1).max(16).default(4),
  bus: z.number().int().min(0).max(99).default(1),
  address: z.number().int().min(0x03).max(0x77).default(0x3c),
  /** Many 1.3" modules sold as SSD1306 are really SH1106 (132 columns): see hardware/display.md. */
  controller: z.enum(['ssd1306', 'sh1106']).default('ssd1306'),
  contrast: z.number().int().min(0).max(255).optional(),
  /** For a panel mounted upside down. */
  rotate180: z.boolean().default(false),
  /** Burn-in protection: the signed-in screen goes dark after this long with nothing happening; 0 = never. */
  sleepAfterSec: z.number().min(0).max(86_400).default(300),
});

export const ButtonSchema = z.strictObject({
  driver: z.enum(['gpio', 'keyboard', 'none']).default('none'),
  /** The BCM number (GPIO17 is header pin 11). */
  bcmPin: z.number().int().min(0).max(57).default(17),
  /** Overrides the computed sysfs number (base + BCM) when the lookup guesses wrong. */
  sysfsPin: z.number().int().min(0).optional(),
  activeLow: z.boolean().default(true),
  bounceTimeMs: z.number().int().min(0).max(1000).default(30),
  holdTimeMs: z.number().int().min(100).max(30_000).default(2000),
  /** After a hold, how long "Sign out?" waits for the confirming press. */
  confirmTimeoutMs: z.number().int().min(1000).max(120_000).default(10_000),
});

export const LogSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

export const SignInSchema = z.strictObject({
  /** How many expired codes are replaced automatically before the device waits for a press. */
  autoRenewCodes: z.number().int().min(0).max(20).default(3),
  /** Never poll faster than this, whatever the server says (a server's 0 would mean a busy loop). */
  minPollIntervalSec: z.number().min(0.05).max(60).default(1),
  /** While a code is shown and the network is down, the longest wait between polls. */
  offlineRetryMaxSec: z.number().min(0.05).max(600).default(30),
});

export const ConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  auth: AuthSchema,
  graph: GraphSchema.default({ baseUrl: 'https://graph.microsoft.com/v1.0' }),
  network: NetworkSchema.default({ timeoutSec: 30 }),
  cache: CacheSchema.default({}),
  display: DisplaySchema.default({ driver: 'auto', width: 128, height: 64, pngScale: 4, bus: 1, address: 0x3c, controller: 'ssd1306', rotate180: false, sleepAfterSec: 300 }),
  button: ButtonSchema.default({ driver: 'none', bcmPin: 17, activeLow: true, bounceTimeMs: 30, holdTimeMs: 2000, confirmTimeoutMs: 10_000 }),
  log: LogSchema.default({ level: 'info' }),
  signIn: SignInSchema.default({ autoRenewCodes: 3, minPollIntervalSec: 1, offlineRetryMaxSec: 30 }),
  /** The folder for the token cache, the key (when generated) and job outputs. */
  stateDirectory: z.string().optional(),
});

export type Config = z.infer<typeof ConfigSchema>;
export type GraphJobConfig = z.infer<typeof GraphJobSchema>;

/** Keys of Microsoft's Python sample's parameters.json, accepted at the top level. */
export const PythonSampleSchema = z.strictObject({
  authority: httpsUrl.optional(),
  client_id: z.string().optional(),
  scope: z.array(z.string()).or(z.string()).optional(),
  endpoint: httpsUrl.optional(),
});
export const PYTHON_SAMPLE_KEYS = ['authority', 'client_id', 'scope', 'endpoint'] as const;
