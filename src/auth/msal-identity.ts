import { AuthError, PublicClientApplication, LogLevel, type AccountInfo, type Configuration, type DeviceCodeRequest, type ICachePlugin, type INetworkModule } from '@azure/msal-node';
import type { Logger } from '../log.js';

/** The fields msal-node hands to the device code callback (its type is not exported). */
type DeviceCodeResponse = Parameters<DeviceCodeRequest['deviceCodeCallback']>[0];
import type { Account, DeviceCode } from '../agent/machine.js';
import { PollingGuard } from './polling-guard.js';
import { classifySignInError, describe, isOffline, needsSignIn } from './errors.js';
import { NeedsSignInError, SignInFailedError, TokenUnavailableError, type DeviceCodeAttempt, type IdentityPort, type SilentOutcome } from './identity.js';

export interface MsalIdentityOptions {
  clientId: string;
  authority: string;
  scopes: string[];
  knownAuthorities?: string[];
  protocolMode?: 'AAD' | 'OIDC' | 'EAR';
  azureCloudOptions?: { azureCloudInstance: string; tenant?: string | undefined };
  cloudDiscoveryMetadata?: string;
  authorityMetadata?: string;
  cachePlugin: ICachePlugin;
  networkClient: INetworkModule;
  /** Floor for the polling interval (RFC 8628 says 5 s when the server omits it). */
  minPollIntervalSec?: number;
  /** Longest wait between polls while the network is down. */
  maxOfflineBackoffMs?: number;
  logger: Logger;
  now?: () => number;
}

/** The identity port on msal-node's PublicClientApplication. */
export class MsalIdentity implements IdentityPort {
  private readonly app: PublicClientApplication;
  private readonly guard: PollingGuard;
  private readonly log: Logger;
  private readonly now: () => number;
  private account: AccountInfo | undefined;

  constructor(private readonly options: MsalIdentityOptions) {
    this.log = options.logger;
    this.now = options.now ?? Date.now;
    this.guard = new PollingGuard(options.networkClient, {
      minIntervalSec: options.minPollIntervalSec ?? 5,
      logger: this.log,
      ...(options.maxOfflineBackoffMs !== undefined ? { maxOfflineBackoffMs: options.maxOfflineBackoffMs } : {}),
    });
    if (options.authorityMetadata) {
      try {
        this.guard.learnDiscovery(JSON.parse(options.authorityMetadata));
      } catch {
        // The config loader has already checked it is JSON.
      }
    }
    const msalLog = this.log.child({ component: 'msal' });
    const config: Configuration = {
      auth: {
        clientId: options.clientId,
        authority: options.authority,
        knownAuthorities: options.knownAuthorities ?? [],
        ...(options.azureCloudOptions ? { azureCloudOptions: options.azureCloudOptions as Configuration['auth']['azureCloudOptions'] } : {}),
        ...(options.cloudDiscoveryMetadata ? { cloudDiscoveryMetadata: options.cloudDiscoveryMetadata } : {}),
        ...(options.authorityMetadata ? { authorityMetadata: options.authorityMetadata } : {}),
      },
      cache: { cachePlugin: options.cachePlugin },
      system: {
        networkClient: this.guard,
        ...(options.protocolMode ? { protocolMode: options.protocolMode as NonNullable<Configuration['system']>['protocolMode'] } : {}),
        loggerOptions: {
          // PII off: msal then logs no tokens, codes or user names.
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message) => {
            const line = { event: 'msal.log' };
            if (level === LogLevel.Error) msalLog.warn(line, message);
            else if (level === LogLevel.Warning) msalLog.warn(line, message);
            else msalLog.debug(line, message);
          },
        },
      },
    };
    this.app = new PublicClientApplication(config);
  }

  private deadRefreshTokens: string | undefined;
  private refreshTokenFingerprint(): string {
    const cache = JSON.parse(this.app.getTokenCache().serialize()) as { RefreshToken?: Record<string, { secret?: string }> };
    return Object.values(cache.RefreshToken ?? {}).map((t) => t.secret ?? '').sort().join('|');
  }

  async trySilent(): Promise<SilentOutcome> {
    const accounts = await this.app.getTokenCache().getAllAccounts();
    const account = accounts[0];
    if (!account) return { kind: 'needs-sign-in' };
    this.account = account;
    const fingerprint = this.refreshTokenFingerprint();
    if (fingerprint === this.deadRefreshTokens) return { kind: 'needs-sign-in', why: 'Sign-in expired' };
    try {
      await this.app.acquireTokenSilent({ account, scopes: this.options.scopes });
      this.log.info({ event: 'signin.restored', account: account.username }, `signed in from the token cache as ${account.username}`);
      return { kind: 'ok', account: toAccount(account), online: true };
    } catch (err) {
      if (needsSignIn(err)) {
        this.deadRefreshTokens = fingerprint;
        this.log.warn({ event: 'signin.expired', account: account.username, reason: describe(err) }, 'the cached sign-in no longer works: a new sign-in is needed');
        return { kind: 'needs-sign-in', why: 'Sign-in expired' };
      }
      // Network or server trouble: keep the tokens, carry on offline; jobs retry later.
      this.log.warn({ event: 'signin.offline', account: account.username, reason: describe(err) }, 'could not refresh the token now; keeping the cached sign-in');
      return { kind: 'ok', account: toAccount(account), online: false };
    }
  }

  startDeviceCode(onCode: (code: DeviceCode) => void, onOffline?: (offline: boolean) => void): DeviceCodeAttempt {
    let cancelled = false;
    let invalidReply: string | undefined;
    let unwatch: (() => void) | undefined;
    const startedAt = this.now();
    const request: DeviceCodeRequest = {
      scopes: this.options.scopes,
      deviceCodeCallback: (response: DeviceCodeResponse) => {
        const problem = checkDeviceCodeResponse(response);
        if (problem) {
          invalidReply = problem;
          request.cancel = true; // stop polling a code nobody can read
          return;
        }
        const issuedAt = this.now();
        const code: DeviceCode = {
          userCode: response.userCode,
          verificationUri: response.verificationUri,
          issuedAt,
          expiresAt: issuedAt + response.expiresIn * 1000,
        };
        this.log.info({
          event: 'device_code.issued',
          user_code: code.userCode,
          verification_uri: code.verificationUri,
          expires_at: new Date(code.expiresAt).toISOString(),
          interval_s: response.interval,
        }, `To sign in, open ${code.verificationUri} and enter the code ${code.userCode}`);
        // Transient failures while this code is polled keep it on screen (see PollingGuard).
        if (typeof response.deviceCode === 'string') {
          unwatch = this.guard.watch(response.deviceCode, { offline: (offline) => onOffline?.(offline) });
        }
        onCode(code);
      },
    };
    const result = this.app.acquireTokenByDeviceCode(request).finally(() => unwatch?.()).then(
      (auth) => {
        if (!auth?.account) throw new SignInFailedError({ kind: 'server', reason: 'The server sent no account' }, 'token reply without an account');
        this.account = auth.account;
        this.log.info({ event: 'signin.succeeded', account: auth.account.username, name: auth.account.name, tenant: auth.account.tenantId }, `signed in as ${auth.account.username}`);
        return toAccount(auth.account);
      },
      (err: unknown) => {
        if (invalidReply) {
          // An error reply from the device code endpoint reaches the callback as undefined fields:
          // the reply the guard saw says what it really was (an app registration problem, say).
          const reply = this.guard.lastReply;
          if (reply && reply.at >= startedAt) {
            const failure = classifySignInError(new AuthError('post_request_failed', '', reply.error), reply);
            this.log.error({ event: 'signin.failed', kind: failure.kind, reason: failure.detail }, `the device code request was refused: ${failure.reason}`);
            throw new SignInFailedError(failure, failure.detail);
          }
          this.log.error({ event: 'signin.failed', kind: 'server', reason: invalidReply }, `the device code reply was unusable: ${invalidReply}`);
          throw new SignInFailedError({ kind: 'server', reason: 'The sign-in service sent an unusable code' }, invalidReply);
        }
        const failure = classifySignInError(err, this.guard.lastReply);
        if (cancelled && failure.kind === 'cancelled') throw new SignInFailedError(failure, failure.detail);
        const level = failure.kind === 'expired' || failure.kind === 'cancelled' ? 'info' : failure.kind === 'offline' ? 'warn' : 'error';
        this.log[level]({ event: 'signin.failed', kind: failure.kind, reason: failure.detail }, `sign-in did not complete: ${failure.reason}`);
        throw new SignInFailedError(failure, failure.detail);
      },
    );
    // Every promise from acquireTokenByDeviceCode needs a handler: an unhandled
    // device_code_expired has crashed other people's daemons. The caller handles `result`; this
    // guards against a caller that abandons it.
    result.catch(() => undefined);
    return {
      result,
      cancel: () => {
        cancelled = true;
        request.cancel = true;
      },
    };
  }

  async getAccessToken(options: { forceRefresh: boolean }): Promise<string> {
    const account = this.account ?? (await this.app.getTokenCache().getAllAccounts())[0];
    if (!account) throw new NeedsSignInError('No account on this device');
    try {
      const result = await this.app.acquireTokenSilent({ account, scopes: this.options.scopes, forceRefresh: options.forceRefresh });
      return result.accessToken;
    } catch (err) {
      if (needsSignIn(err)) {
        this.deadRefreshTokens = this.refreshTokenFingerprint();
        this.log.warn({ event: 'token.needs_sign_in', reason: describe(err) }, 'the sign-in was revoked or has expired: starting a new sign-in');
        throw new NeedsSignInError('Sign-in expired');
      }
      if (isOffline(err)) throw new TokenUnavailableError(`token refresh failed: ${describe(err)}`);
      throw new TokenUnavailableError(`token refresh failed: ${describe(err)}`);
    }
  }

  async signOut(): Promise<void> {
    const cache = this.app.getTokenCache();
    for (const account of await cache.getAllAccounts()) {
      await cache.removeAccount(account);
      this.log.info({ event: 'signout', account: account.username }, `signed out ${account.username}`);
    }
    this.account = undefined;
  }

  async close(): Promise<void> {
    // Nothing to release: the network client belongs to the caller.
  }
}

function toAccount(a: AccountInfo): Account {
  return { homeAccountId: a.homeAccountId, name: a.name ?? a.username, username: a.username };
}

/** The callback's fields come straight from the network: check them before they reach the screen. */
export function checkDeviceCodeResponse(r: DeviceCodeResponse): string | undefined {
  if (typeof r.userCode !== 'string' || !/^[A-Za-z0-9-]{4,32}$/.test(r.userCode)) return `user_code ${JSON.stringify(r.userCode)} is not a short code of letters and digits`;
  if (typeof r.verificationUri !== 'string') return 'verification_uri is missing';
  try {
    const u = new URL(r.verificationUri);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return `verification_uri ${JSON.stringify(r.verificationUri)} is not a web address`;
  } catch {
    return `verification_uri ${JSON.stringify(r.verificationUri)} is not a URL`;
  }
  if (r.verificationUri.length > 200) return 'verification_uri is longer than 200 characters';
  if (typeof r.expiresIn !== 'number' || !(r.expiresIn > 0)) return `expires_in ${JSON.stringify(r.expiresIn)} is not a positive number`;
  return undefined;
}
