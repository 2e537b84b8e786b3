import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ICachePlugin } from '@azure/msal-node';
import { EncryptedFileCache, generateKey } from '../../../src/auth/cache/index.js';
import { MsalIdentity } from '../../../src/auth/msal-identity.js';
import { MsalNetworkClient } from '../../../src/auth/network.js';
import { HttpsClient } from '../../../src/net/https.js';
import { silentLogger } from '../../../src/log.js';
import { startIdentityEmulator } from '../../support/identity-emulator/index.js';
import { median } from './processes.js';

/**
 * Silent token acquisition (what every Graph job asks for) through the encrypted file cache,
 * against the same calls with an unencrypted in-memory cache, two ways: msal-node with no cache
 * plugin at all (its own memory), and a plugin that keeps the serialized cache in a string (the
 * same hooks and (de)serialization as ours, without the file and the AES-GCM). Each signs in once
 * by the device code flow against the identity emulator; then every call is answered from the
 * cache (the access token is valid for an hour), so the differences are the cache's cost.
 */

export interface TokenFigures {
  encryptedMs: number;
  /** msal-node without a plugin. */
  memoryMs: number;
  /** A plugin holding the JSON in memory. */
  memoryPluginMs: number;
  /** encrypted / memory. */
  ratio: number;
  calls: number;
  /** HTTP requests per silent call (0 when answered from the cache alone). */
  requestsPerCall: { encrypted: number; memory: number; memoryPlugin: number };
}

/** The serialized cache in a string: what a plugin does without a file and without encryption. */
class InMemoryPlugin implements ICachePlugin {
  private json: string | undefined;
  async beforeCacheAccess(ctx: Parameters<ICachePlugin['beforeCacheAccess']>[0]): Promise<void> {
    if (this.json !== undefined) ctx.tokenCache.deserialize(this.json);
  }
  async afterCacheAccess(ctx: Parameters<ICachePlugin['afterCacheAccess']>[0]): Promise<void> {
    if (ctx.cacheHasChanged) this.json = ctx.tokenCache.serialize();
  }
}

export async function measureSilentTokens(calls: number): Promise<TokenFigures> {
  const idp = await startIdentityEmulator({ intervalSec: 0.05 });
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-bench-tokens-'));
  const http = new HttpsClient({ extraCaPem: idp.caPem });
  const logger = silentLogger();
  const clientId = 'd1f4e3c2-1111-2222-3333-444455556666';
  try {
    const identity = (cachePlugin: ICachePlugin | undefined): MsalIdentity => new MsalIdentity({
      clientId, authority: idp.authority, scopes: ['User.Read'], knownAuthorities: [idp.knownAuthority],
      // MsalIdentity always passes a plugin; `undefined` is msal-node's own memory cache.
      cachePlugin: cachePlugin as ICachePlugin, networkClient: new MsalNetworkClient({ http, timeoutMs: 10_000, logger }), minPollIntervalSec: 0.05, logger,
    });
    const encrypted = identity(new EncryptedFileCache({ path: path.join(dir, 'token-cache.bin'), key: generateKey(), clientId, logger }));
    const memory = identity(undefined);
    const memoryPlugin = identity(new InMemoryPlugin());
    for (const id of [encrypted, memory, memoryPlugin]) {
      await id.startDeviceCode((code) => idp.approve(code.userCode)).result;
      for (let i = 0; i < 20; i++) await id.getAccessToken({ forceRefresh: false }); // warm-up
    }
    const times = { encrypted: [] as number[], memory: [] as number[], memoryPlugin: [] as number[] };
    // A silent call answered from the cache should not touch the network; say when it does.
    const requests = { encrypted: 0, memory: 0, memoryPlugin: 0 };
    // Interleaved, so a busy neighbour on the machine slows both alike.
    for (let i = 0; i < calls; i++) {
      for (const [name, id] of [['encrypted', encrypted], ['memory', memory], ['memoryPlugin', memoryPlugin]] as const) {
        const before = idp.requests.length;
        const started = performance.now();
        await id.getAccessToken({ forceRefresh: false });
        times[name].push(performance.now() - started);
        requests[name] += idp.requests.length - before;
      }
    }
    const encryptedMs = median(times.encrypted);
    const memoryMs = median(times.memory);
    return { encryptedMs, memoryMs, memoryPluginMs: median(times.memoryPlugin), ratio: encryptedMs / memoryMs, calls,
      requestsPerCall: { encrypted: requests.encrypted / calls, memory: requests.memory / calls, memoryPlugin: requests.memoryPlugin / calls } };
  } finally {
    http.close();
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  }
}
