import type { Account, DeviceCode, SignInFailure } from '../agent/machine.js';

/** The identity port: everything the agent needs from the sign-in side, nothing about screens. */
export interface IdentityPort {
  /** At start: is there a cached account whose tokens still work? */
  trySilent(): Promise<SilentOutcome>;
  /** Starts one device code sign-in. `onCode` runs once the server has issued a code. */
  startDeviceCode(onCode: (code: DeviceCode) => void, onOffline?: (offline: boolean) => void): DeviceCodeAttempt;
  /** An access token for Graph, refreshed silently. Throws {@link NeedsSignInError} when only a new sign-in helps. */
  getAccessToken(options: { forceRefresh: boolean }): Promise<string>;
  /** Removes the account (and its tokens) from the cache. */
  signOut(): Promise<void>;
  close(): Promise<void>;
}

export type SilentOutcome =
  | { kind: 'ok'; account: Account; online: boolean }
  | { kind: 'needs-sign-in'; why?: string };

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
  constructor(readonly why: string) {
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
