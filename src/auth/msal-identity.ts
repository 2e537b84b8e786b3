import { createHash } from 'node:crypto';
import { AuthError, PublicClientApplication, LogLevel, type AccountInfo, type Configuration, type DeviceCodeRequest, type ICachePlugin, type INetworkModule } from '@azure/msal-node';
import type { Logger } from '../log.js';

/** The fields msal-node hands to the device code callback (its type is not exported). */
type DeviceCodeResponse = Parameters<DeviceCodeRequest['deviceCodeCallback']>[0];
import { PollingGuard } from './polling-guard.js';
import { CONSENT_CODES, adminConsentUrl, classifySignInError, describe, errorFields, isOffline, lapseOf, needsSignIn, serverText } from './errors.js';
import { NeedsSignInError, SignInFailedError, TokenUnavailableError, type Account, type CachedAccounts, type DeviceCode, type DeviceCodeAttempt, type IdentityPort, type SignInFailure, type SilentOutcome } from './identity.js';

export interface MsalIdentityOptions {
  clientId: string;
  authority: string;
  scopes: string[];
  knownAuthorities?: string[];
  protocolMode?: 'AAD' | 'OIDC' | 'EAR';
  azureCloudOptions?: { azureCloudInstance: string; tenant?: string | undefined };
  cloudDiscoveryMetadata?: string;
  authorityMetadata?: string;
  /** The token cache; `filesReadFromOthers` (EncryptedFileCache) tells sign-ins by other processes apart. */
  cachePlugin: ICachePlugin & { readonly filesReadFromOthers?: number };
  networkClient: INetworkModule;
  /** Floor for the polling interval (RFC 8628 says 5 s when the server omits it). */
  minPollIntervalSec?: number;
  /** Longest wait between polls while the network is down. */
  maxOfflineBackoffMs?: number;
  /** Which device this is (config device.label): in the log with each code and sign-in. */
  deviceLabel?: string;
  logger: Logger;
  now?: () => number;
  /**
   * Told of every sign-in and every refresh that reached the server (never a token): the state
   * folder keeps when they happened, for `status` and the warning before refresh tokens run out.
   */
  onTokens?: (event: TokenEvent) => Promise<void> | void;
}

/** A sign-in (by a code) or a refresh of the tokens from the server (not from the cache). */
export interface TokenEvent {
  kind: 'signed-in' | 'refreshed';
  account: string;
  at: number;
}

/** The identity port on msal-node's PublicClientApplication. */
export class MsalIdentity implements IdentityPort, CachedAccounts {
  private readonly app: PublicClientApplication;
  private readonly guard: PollingGuard;
  private readonly log: Logger;
  private readonly now: () => number;
  private account: AccountInfo | undefined;
  /** The last sign-in or refresh being recorded (see onTokens): written before close() returns. */
  private recording: Promise<void> = Promise.resolve();

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
            // A press while a code is shown cancels its polling on purpose: msal calls that an error.
            if (/cancelled by setting DeviceCodeRequest\.cancel/i.test(message)) msalLog.debug(line, message);
            else if (level === LogLevel.Error || level === LogLevel.Warning) msalLog.warn(line, message);
            else msalLog.debug(line, message);
          },
        },
      },
    };
    this.app = new PublicClientApplication(config);
  }

  /**
   * Fingerprints (SHA-256, never the secrets) of refresh tokens the server has refused: a silent
   * check must never bring them back, even if removing them from the cache failed.
   */
  private readonly refused = new Set<string>();
  /** Accounts being removed from the cache right now (see forget). */
  private readonly forgetting = new Map<string, Promise<void>>();

  /** The fingerprints of the refresh tokens msal holds for `account`, from its in-memory cache. */
  private refreshTokensOf(account: AccountInfo): string[] {
    const cache = JSON.parse(this.app.getTokenCache().serialize()) as { RefreshToken?: Record<string, { home_account_id?: string; secret?: string }> };
    return Object.values(cache.RefreshToken ?? {})
      .filter((t) => t.home_account_id === account.homeAccountId && typeof t.secret === 'string')
      .map((t) => createHash('sha256').update(t.secret ?? '').digest('base64url'));
  }

  /** Tokens that cannot be refused: none, or only ones the server has refused already. */
  private hasLiveRefreshToken(account: AccountInfo): boolean {
    return this.refreshTokensOf(account).some((f) => !this.refused.has(f));
  }

  /**
   * The server has refused this account's tokens (invalid_grant, interaction required, a 401 a
   * refresh could not cure): remove the account and its tokens from the cache, so that nothing
   * can sign in with them again (its access token may still look valid by its own clock), and
   * remember their fingerprints in case the cache could not be written.
   */
  private async forget(account: AccountInfo): Promise<boolean> {
    for (const f of this.refreshTokensOf(account)) this.refused.add(f);
    if (this.account?.homeAccountId === account.homeAccountId) this.account = undefined;
    // Jobs that asked at the same moment are refused together: the first one forgets, the others
    // wait until the account is gone from the file (so a restart right after cannot find it).
    const running = this.forgetting.get(account.homeAccountId);
    if (running) {
      await running;
      return false;
    }
    const removal = this.removeFromCache(account);
    this.forgetting.set(account.homeAccountId, removal.then(() => undefined));
    try {
      return await removal;
    } finally {
      this.forgetting.delete(account.homeAccountId);
    }
  }

  /** Removes the account from the cache file; false when it was gone already. */
  private async removeFromCache(account: AccountInfo): Promise<boolean> {
    try {
      const cache = this.app.getTokenCache();
      if (!(await cache.getAllAccounts()).some((a) => a.homeAccountId === account.homeAccountId)) return false;
      await cache.removeAccount(account);
    } catch (err) {
      this.log.warn({ event: 'cache.write_failed', reason: describe(err) }, 'could not remove the refused sign-in from the token cache; it is ignored until the agent restarts: check the state folder is writable');
    }
    return true;
  }

  async trySilent(): Promise<SilentOutcome> {
    const accounts = await this.app.getTokenCache().getAllAccounts();
    const account = accounts.find((a) => this.hasLiveRefreshToken(a)) ?? accounts[0];
    if (!account) return { kind: 'needs-sign-in' };
    if (!this.hasLiveRefreshToken(account)) {
      await this.forget(account);
      return { kind: 'needs-sign-in', why: 'Sign-in expired', lapse: 'expired' };
    }
    this.account = account;
    try {
      this.tokensFrom(await this.app.acquireTokenSilent({ account, scopes: this.options.scopes }));
      this.log.info({ event: 'signin.restored', account: account.username }, `signed in from the token cache as ${account.username}`);
      return { kind: 'ok', account: toAccount(account), online: true };
    } catch (err) {
      if (needsSignIn(err)) {
        await this.forget(account);
        const { lapse, why } = lapseOf(err);
        this.log.warn({ event: 'signin.expired', account: account.username, lapse, ...errorFields(err) }, `the cached sign-in no longer works (${why}): a new sign-in is needed`);
        return { kind: 'needs-sign-in', why, lapse };
      }
      // Network or server trouble: keep the tokens, carry on offline; jobs retry later.
      this.log.warn({ event: 'signin.offline', account: account.username, ...errorFields(err) }, 'could not refresh the token now; keeping the cached sign-in');
      return { kind: 'ok', account: toAccount(account), online: false };
    }
  }

  async cacheMark(): Promise<number> {
    await this.app.getTokenCache().getAllAccounts(); // brings the plugin up to date with the file
    return this.options.cachePlugin.filesReadFromOthers ?? 0;
  }

  async signedInElsewhere(mark: number): Promise<Account | undefined> {
    const accounts = await this.app.getTokenCache().getAllAccounts();
    const reads = this.options.cachePlugin.filesReadFromOthers;
    // Nobody else wrote the file since the code went up: nothing to find (and no token request).
    if (reads !== undefined && reads === mark) return undefined;
    for (const account of accounts) {
      if (!this.hasLiveRefreshToken(account)) continue;
      try {
        await this.app.acquireTokenSilent({ account, scopes: this.options.scopes });
      } catch (err) {
        if (needsSignIn(err)) await this.forget(account);
        continue;
      }
      this.account = account;
      this.log.info({ event: 'signin.restored', account: account.username, via: 'another process' }, `signed in by another process (graph-device-agent login) as ${account.username}`);
      return toAccount(account);
    }
    return undefined;
  }

  startDeviceCode(onCode: (code: DeviceCode) => void, onOffline?: (offline: boolean) => void): DeviceCodeAttempt {
    let cancelled = false;
    let invalidReply: string | undefined;
    let unwatch: (() => void) | undefined;
    const startedAt = this.now();
    const request: DeviceCodeRequest = {
      scopes: this.options.scopes,
      deviceCodeCallback: (response: DeviceCodeResponse) => {
        const problem = this.guard.deviceCodeProblem ?? checkDeviceCodeResponse(response);
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
          device: this.options.deviceLabel,
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
        this.recordTokens({ kind: 'signed-in', account: auth.account.username, at: this.now() });
        this.log.info({ event: 'signin.succeeded', device: this.options.deviceLabel, account: auth.account.username, display_name: auth.account.name, tenant: auth.account.tenantId }, `signed in as ${auth.account.username}`);
        return toAccount(auth.account);
      },
      (err: unknown) => {
        if (invalidReply) {
          // An error reply from the device code endpoint reaches the callback as undefined fields:
          // the reply the guard saw says what it really was (an app registration problem, say).
          const reply = this.guard.lastReply;
          if (reply && reply.at >= startedAt) {
            const failure = this.withConsentUrl(classifySignInError(new AuthError('post_request_failed', '', reply.error), reply), reply.codes[0]);
            this.log.error({ event: 'signin.failed', kind: failure.kind, ...serverText(failure.detail) }, `the device code request was refused: ${failure.reason}`);
            throw new SignInFailedError(failure, failure.detail);
          }
          this.log.error({ event: 'signin.failed', kind: 'server', reason: invalidReply }, `the device code reply was unusable: ${invalidReply}`);
          throw new SignInFailedError({ kind: 'server', reason: 'The sign-in service sent an unusable code' }, invalidReply);
        }
        const failure = this.withConsentUrl(classifySignInError(err, this.guard.lastReply), this.guard.lastReply?.codes[0]);
        if (cancelled && failure.kind === 'cancelled') throw new SignInFailedError(failure, failure.detail);
        // Expired, declined, cancelled: what people do; offline: the network; the rest needs an admin.
        const level = failure.kind === 'expired' || failure.kind === 'cancelled' || failure.kind === 'declined' ? 'info' : failure.kind === 'offline' ? 'warn' : 'error';
        this.log[level]({ event: 'signin.failed', kind: failure.kind, ...serverText(failure.detail) }, `sign-in did not complete: ${failure.reason}`);
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
    const account = this.account ?? (await this.app.getTokenCache().getAllAccounts()).find((a) => this.hasLiveRefreshToken(a));
    if (!account) throw new NeedsSignInError('No account on this device', 'signed-out');
    try {
      const result = await this.app.acquireTokenSilent({ account, scopes: this.options.scopes, forceRefresh: options.forceRefresh });
      this.tokensFrom(result);
      return result.accessToken;
    } catch (err) {
      if (needsSignIn(err)) {
        // Once per refused sign-in, not once per job that asked at the same moment.
        const { lapse, why } = lapseOf(err);
        if (await this.forget(account)) {
          this.log.warn({ event: 'token.needs_sign_in', account: account.username, lapse, ...errorFields(err) }, `${why}: a person must sign in again with the code on the screen`);
        }
        throw new NeedsSignInError(why, lapse);
      }
      if (isOffline(err)) throw new TokenUnavailableError(`token refresh failed: ${describe(err)}`);
      throw new TokenUnavailableError(`token refresh failed: ${describe(err)}`);
    }
  }

  /** A token reply that came from the server (not the cache) is a refresh: say when. */
  private tokensFrom(result: { fromCache?: boolean; account?: AccountInfo | null } | null): void {
    if (result && result.fromCache === false && result.account) {
      this.recordTokens({ kind: 'refreshed', account: result.account.username, at: this.now() });
    }
  }

  private recordTokens(event: TokenEvent): void {
    const done = this.options.onTokens?.(event);
    if (done) this.recording = done.catch(() => undefined);
  }

  /** A refusal for want of consent carries the admin-consent page, for IT (a QR code on the screen). */
  private withConsentUrl<F extends SignInFailure>(failure: F, aadsts: number | undefined): F {
    if (aadsts === undefined || !CONSENT_CODES.has(aadsts) || this.options.protocolMode === 'OIDC') return failure;
    const url = adminConsentUrl(this.options.authority, this.options.clientId);
    return url ? { ...failure, adminConsentUrl: url } : failure;
  }

  async signOut(): Promise<void> {
    const cache = this.app.getTokenCache();
    for (const account of await cache.getAllAccounts()) {
      await cache.removeAccount(account);
      this.log.info({ event: 'signout', account: account.username }, `signed out ${account.username}`);
    }
    this.account = undefined;
  }

  async accounts(): Promise<Account[]> {
    return (await this.app.getTokenCache().getAllAccounts()).map(toAccount);
  }

  async signOutAccount(account: Account): Promise<void> {
    const cache = this.app.getTokenCache();
    for (const cached of await cache.getAllAccounts()) {
      if (cached.homeAccountId !== account.homeAccountId) continue;
      await cache.removeAccount(cached);
      this.log.info({ event: 'signout', account: cached.username }, `signed out ${cached.username}`);
    }
    if (this.account?.homeAccountId === account.homeAccountId) this.account = undefined;
  }

  async close(): Promise<void> {
    // A refused sign-in being removed from the cache file must be gone before the process ends.
    await Promise.all([...this.forgetting.values(), this.recording]);
    // Nothing else to release: the network client belongs to the caller.
  }
}

function toAccount(a: AccountInfo): Account {
  return { homeAccountId: a.homeAccountId, name: a.name ?? a.username, username: a.username };
}

/** The longest verification address the screen and the QR code take. */
const MAX_URI_LENGTH = 200;

/**
 * The callback's fields come straight from the network, and go on a screen people trust and into
 * a QR code they scan: check them before they reach either. The address must be a plain https
 * URL (no user-info that disguises the host: `https://microsoft.com@evil.example/`), short and
 * printable; the code a short run of letters and digits.
 */
export function checkDeviceCodeResponse(r: DeviceCodeResponse): string | undefined {
  if (typeof r.userCode !== 'string' || !/^[A-Za-z0-9-]{4,32}$/.test(r.userCode)) return `user_code ${quote(r.userCode)} is not a short code of letters and digits`;
  if (typeof r.verificationUri !== 'string') return 'verification_uri is missing';
  if (r.verificationUri.length > MAX_URI_LENGTH) return `verification_uri is longer than ${MAX_URI_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(r.verificationUri)) return `verification_uri ${quote(r.verificationUri)} has spaces, control or non-ASCII characters`;
  let u: URL;
  try {
    u = new URL(r.verificationUri);
  } catch {
    return `verification_uri ${quote(r.verificationUri)} is not a URL`;
  }
  if (u.protocol !== 'https:') return `verification_uri ${quote(r.verificationUri)} is not an https address`;
  if (u.username !== '' || u.password !== '') return `verification_uri ${quote(r.verificationUri)} carries a user name before the host (it would disguise ${u.hostname})`;
  if (typeof r.expiresIn !== 'number' || !(r.expiresIn > 0) || !Number.isFinite(r.expiresIn)) return `expires_in ${quote(r.expiresIn)} is not a positive number`;
  return undefined;
}

/** A value from a server, quoted for a log line: bounded, control characters escaped. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}..."` : text;
}
