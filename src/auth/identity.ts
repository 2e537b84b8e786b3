/**
 * The identity port: what the agent needs from the sign-in side (and the types it speaks in),
 * nothing about screens. msal-identity.ts is its adapter.
 */

export interface DeviceCode {
  userCode: string;
  verificationUri: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
}

export interface Account {
  homeAccountId: string;
  name: string;
  username: string;
}

/** Why a sign-in attempt ended without tokens, as the agent needs to know it. */
export type SignInFailureKind =
  | 'expired' // the code ran out before anyone used it
  | 'declined' // the person pressed "No" / Deny
  | 'blocked' // Conditional Access or another policy refused the device code flow
  | 'app-config' // the app registration is wrong (public client flows off, app not found, no consent)
  | 'offline' // no network or the server did not answer: try again
  | 'server' // the identity server answered with something unusable
  | 'cancelled'; // we abandoned it ourselves

/**
 * Why a sign-in that worked no longer does: it ran out (90 days unused, AADSTS700082), it was
 * revoked (a password change, "revoke sessions": 50173), a policy asks for a new sign-in
 * (sign-in frequency, 70043; MFA), or the account was signed out.
 */
export type SignInLapse = 'expired' | 'revoked' | 'policy' | 'signed-out';

/** What the screen says for each lapse, in place of the QR code while the new code is young. */
export const LAPSE_WHY: Record<SignInLapse, string> = {
  expired: 'Sign-in expired',
  revoked: 'Sign-in revoked',
  policy: 'Sign-in policy: sign in again',
  'signed-out': 'Signed out',
};

export interface SignInFailure {
  kind: SignInFailureKind;
  /** One short line for the screen. */
  reason: string;
  /** What the person should do, for the screen. */
  action?: string;
  /** For want of consent: the tenant's admin-consent page for this app, for IT (a QR code on the screen). */
  adminConsentUrl?: string;
}

/** The identity port: everything the agent needs from the sign-in side, nothing about screens. */
export interface IdentityPort {
  /** At start: is there a cached account whose tokens still work? */
  trySilent(): Promise<SilentOutcome>;
  /** Starts one device code sign-in. `onCode` runs once the server has issued a code. */
  startDeviceCode(onCode: (code: DeviceCode) => void, onOffline?: (offline: boolean) => void): DeviceCodeAttempt;
  /** An access token for Graph, refreshed silently. Throws {@link NeedsSignInError} when only a new sign-in helps. */
  getAccessToken(options: { forceRefresh: boolean }): Promise<string>;
  /**
   * A mark of the token cache as it is now, taken when a code goes on the screen, for
   * {@link signedInElsewhere}.
   */
  cacheMark(): Promise<number>;
  /**
   * An account that another process (`graph-device-agent login`) signed in after `mark` was
   * taken, whose tokens work; undefined when nobody did. Tokens the server has refused never
   * count, however valid they look by their own clock.
   */
  signedInElsewhere(mark: number): Promise<Account | undefined>;
  /** Removes the account (and its tokens) from the cache. */
  signOut(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The accounts in the token cache, for the commands that manage them (`login`, `logout`); the
 * msal adapter has both this and {@link IdentityPort}, with the same settings as the daemon's.
 */
export interface CachedAccounts {
  /** Every account in the cache; the agent signs in with the first. */
  accounts(): Promise<Account[]>;
  /** Removes one account and its tokens (with the cache lock, like any write). */
  signOutAccount(account: Account): Promise<void>;
}

export type SilentOutcome =
  | { kind: 'ok'; account: Account; online: boolean }
  | { kind: 'needs-sign-in'; why?: string; lapse?: SignInLapse };

export interface DeviceCodeAttempt {
  /** Resolves with the account when someone approves the code; rejects with a {@link SignInFailedError}. */
  result: Promise<Account>;
  /** Stops polling after the current wait (msal-node checks the flag before each poll). */
  cancel(): void;
}

export class SignInFailedError extends Error {
  constructor(readonly failure: SignInFailure, readonly detail: string) {
    super(failure.reason);
    this.name = 'SignInFailedError';
  }
}

export class NeedsSignInError extends Error {
  /** `why` is the screen's line; `lapse` what kind of lapse it is (notifications, tests). */
  constructor(readonly why: string, readonly lapse: SignInLapse = 'expired') {
    super(why);
    this.name = 'NeedsSignInError';
  }
}

/** The token could not be had for now (network, server trouble): retry later, keep the tokens. */
export class TokenUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenUnavailableError';
  }
}
