import type { ResolvedConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { HttpsClient } from '../net/https.js';
import { LazyIdentity } from '../auth/lazy-identity.js';
import type { IdentityPort } from '../auth/identity.js';
import type { MsalIdentityOptions } from '../auth/msal-identity.js';
import { EncryptedFileCache } from '../auth/cache/index.js';
import { GraphClient, type TokenProvider } from '../graph/client.js';
import { DEFAULT_JOBS, type GraphJobSpec } from '../graph/jobs.js';

/**
 * The identity and Graph parts built from the configuration, for every command that signs in or
 * calls Graph (the daemon in app.ts, `run-job`), so they cannot drift apart: same msal-node
 * settings, same encrypted cache, same Graph client.
 */

export interface IdentityPartsOptions {
  /** The token cache key (auth/key-source.ts). */
  key: Buffer;
  /** Shared with Graph, so both trust the same extra CA and reuse connections. */
  http: HttpsClient;
  now?: () => number;
}

/** msal-node behind the identity port, loaded on first use (see LazyIdentity). */
export function createIdentity(config: ResolvedConfig, logger: Logger, options: IdentityPartsOptions): LazyIdentity {
  const { key, http } = options;
  return new LazyIdentity(async (): Promise<IdentityPort> => {
    const [{ MsalIdentity }, { MsalNetworkClient }] = await Promise.all([
      import('../auth/msal-identity.js'),
      import('../auth/network.js'),
    ]);
    return new MsalIdentity(msalIdentityOptions(config, logger, {
      cachePlugin: createTokenCache(config, logger, key),
      networkClient: new MsalNetworkClient({ http, timeoutMs: config.network.timeoutSec * 1000, logger: logger.child({ component: 'http' }) }),
      ...(options.now ? { now: options.now } : {}),
    }));
  });
}

/** msal-node's settings from the configuration: one place for the daemon and `login`. */
export function msalIdentityOptions(
  config: ResolvedConfig,
  logger: Logger,
  parts: Pick<MsalIdentityOptions, 'cachePlugin' | 'networkClient' | 'now'>,
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
    logger,
    ...parts,
  };
}


/** The encrypted token cache file msal-node reads and writes. */
export function createTokenCache(config: ResolvedConfig, logger: Logger, key: Buffer): EncryptedFileCache {
  return new EncryptedFileCache({ path: config.cache.path, key, clientId: config.auth.clientId, logger: logger.child({ component: 'cache' }) });
}

/** The Graph client, with tokens from `tokens` (the identity: acquireTokenSilent). */
export function createGraphClient(config: ResolvedConfig, logger: Logger, options: { http: HttpsClient; tokens: TokenProvider }): GraphClient {
  return new GraphClient({ http: options.http, baseUrl: config.graph.baseUrl, tokens: options.tokens, logger: logger.child({ component: 'graph' }) });
}

/** The configured jobs, or the Python sample's (the user and their manager). */
export function configuredJobs(config: ResolvedConfig): readonly GraphJobSpec[] {
  return config.graph.jobs ?? DEFAULT_JOBS;
}
