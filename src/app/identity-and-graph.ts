import type { ResolvedConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { HttpsClient } from '../net/https.js';
import { LazyIdentity } from '../auth/lazy-identity.js';
import type { CachedAccounts, IdentityPort } from '../auth/identity.js';
import { resolveKey } from '../auth/key-source.js';
import type { MsalIdentityOptions } from '../auth/msal-identity.js';
import { EncryptedFileCache, type CacheNotOursError } from '../auth/cache/index.js';
import { SignInRecorder } from '../auth/signin-record.js';
import { GraphClient, type TokenProvider } from '../graph/client.js';
import { DEFAULT_JOBS, type GraphJobSpec } from '../graph/jobs.js';

/**
 * The identity and Graph parts built from the configuration, for the daemon (app.ts) and every
 * command that touches the token cache or Graph (`login`, `logout`, `status`, `run-job`), so they
 * cannot drift apart: same msal-node settings, same encrypted cache, same Graph client.
 */

export interface IdentityPartsOptions {
  /** The token cache key (auth/key-source.ts). */
  key: Buffer;
  /** Shared with Graph, so both trust the same extra CA and reuse connections. */
  http: HttpsClient;
  now?: () => number;
  /** The file at cache.path turned out not to be a token cache of this agent (the daemon stops: app.ts). */
  onCacheNotOurs?: (problem: CacheNotOursError) => void;
}

/** msal-node behind the identity port, loaded on first use (see LazyIdentity). */
export function createIdentity(config: ResolvedConfig, logger: Logger, options: IdentityPartsOptions): LazyIdentity {
  return new LazyIdentity(() => msalIdentity(config, logger, createTokenCache(config, logger, options.key, options.onCacheNotOurs), options));
}

/** msal-node over `cache`, loaded now: the one way every part that signs in builds it. */
async function msalIdentity(
  config: ResolvedConfig,
  logger: Logger,
  cache: EncryptedFileCache,
  options: Pick<IdentityPartsOptions, 'http' | 'now'>,
): Promise<IdentityPort & CachedAccounts> {
  const [{ MsalIdentity }, { MsalNetworkClient }] = await Promise.all([
    import('../auth/msal-identity.js'),
    import('../auth/network.js'),
  ]);
  // When the account signed in and last refreshed, in the state folder (daemon and `login` alike).
  const recorder = new SignInRecorder(config.stateDirectory, logger);
  return new MsalIdentity(msalIdentityOptions(config, logger, {
    cachePlugin: cache,
    onTokens: (event) => recorder.record(event),
    networkClient: new MsalNetworkClient({ http: options.http, timeoutMs: config.network.timeoutSec * 1000, logger: logger.child({ component: 'http' }) }),
    ...(options.now ? { now: options.now } : {}),
  }));
}

/** The identity a command (`login`, `logout`) uses: the daemon's, plus the cache's accounts. */
export interface CommandIdentity {
  identity: IdentityPort & CachedAccounts;
  /** Releases the network client. */
  close(): void;
}

/**
 * The daemon's identity (same msal-node settings, same encrypted cache) for a command, with the
 * key from the same sources (never made here). Refuses (returns a message) when the cache exists
 * but does not open with this key: the cache would move it aside, and with the wrong key (a
 * command run without the service's credential) that would sign the agent out.
 */
export async function openCommandIdentity(ctx: { config: ResolvedConfig; env: NodeJS.ProcessEnv; logger: Logger }): Promise<CommandIdentity | { refused: string }> {
  const { config, logger } = ctx;
  const key = await resolveKey({ config, env: ctx.env, logger });
  const cache = createTokenCache(config, logger, key.key);
  key.key.fill(0);
  const state = await cache.status();
  if (state.exists && !state.readable) {
    return {
      refused: `${state.unreadableMessage ?? `token cache ${state.path} is unreadable`}.\n` +
        `Nothing was changed. Run this command with the agent's key (key source: ${key.source} ${key.where}); ` +
        '`graph-device-agent status` shows what the agent uses.',
    };
  }
  const http = HttpsClient.fromCaFile(config.network.caFile);
  return { identity: await msalIdentity(config, logger, cache, { http }), close: () => http.close() };
}

/** msal-node's settings from the configuration: one place for the daemon and every command. */
function msalIdentityOptions(
  config: ResolvedConfig,
  logger: Logger,
  parts: Pick<MsalIdentityOptions, 'cachePlugin' | 'networkClient' | 'now' | 'onTokens'>,
): MsalIdentityOptions {
  return {
    clientId: config.auth.clientId,
    authority: config.auth.authority,
    scopes: config.auth.scopes,
    knownAuthorities: config.auth.knownAuthorities,
    protocolMode: config.auth.protocolMode,
    ...(config.auth.azureCloudOptions ? { azureCloudOptions: config.auth.azureCloudOptions } : {}),
    ...(config.auth.cloudDiscoveryMetadata ? { cloudDiscoveryMetadata: config.auth.cloudDiscoveryMetadata } : {}),
    ...(config.auth.authorityMetadata ? { authorityMetadata: config.auth.authorityMetadata } : {}),
    minPollIntervalSec: config.signIn.minPollIntervalSec,
    maxOfflineBackoffMs: config.signIn.offlineRetryMaxSec * 1000,
    deviceLabel: config.device.label,
    logger,
    ...parts,
  };
}


/** The encrypted token cache file msal-node reads and writes. */
export function createTokenCache(config: ResolvedConfig, logger: Logger, key: Buffer, onNotOurs?: (problem: CacheNotOursError) => void): EncryptedFileCache {
  return new EncryptedFileCache({
    path: config.cache.path, key, clientId: config.auth.clientId, logger: logger.child({ component: 'cache' }),
    ...(onNotOurs ? { onNotOurs } : {}),
  });
}

/** The Graph client, with tokens from `tokens` (the identity: acquireTokenSilent). */
export function createGraphClient(config: ResolvedConfig, logger: Logger, options: { http: HttpsClient; tokens: TokenProvider }): GraphClient {
  return new GraphClient({
    http: options.http, baseUrl: config.graph.baseUrl, tokens: options.tokens, logger: logger.child({ component: 'graph' }),
    timeZone: config.graph.timeZone,
  });
}

/** The configured jobs, or the Python sample's (the user and their manager). */
export function configuredJobs(config: ResolvedConfig): readonly GraphJobSpec[] {
  return config.graph.jobs ?? DEFAULT_JOBS;
}
