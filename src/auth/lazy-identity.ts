import type { Account, DeviceCode, DeviceCodeAttempt, IdentityPort, SilentOutcome } from './identity.js';

/**
 * Defers loading msal-node (about 0.2 s of a Pi's start-up) until the first sign-in call, so the
 * first frame is on the display before it: the person sees "Starting" at once.
 */
export class LazyIdentity implements IdentityPort {
  private loading: Promise<IdentityPort> | undefined;
  private loaded: IdentityPort | undefined;

  constructor(private readonly load: () => Promise<IdentityPort>) {}

  private get(): Promise<IdentityPort> {
    this.loading ??= this.load().then((identity) => (this.loaded = identity));
    return this.loading;
  }

  async trySilent(): Promise<SilentOutcome> {
    return (await this.get()).trySilent();
  }

  startDeviceCode(onCode: (code: DeviceCode) => void, onOffline?: (offline: boolean) => void): DeviceCodeAttempt {
    let inner: DeviceCodeAttempt | undefined;
    let cancelled = false;
    const result = this.get().then((identity) => {
      inner = identity.startDeviceCode(onCode, onOffline);
      if (cancelled) inner.cancel();
      return inner.result;
    });
    return {
      result,
      cancel: () => {
        cancelled = true;
        inner?.cancel();
      },
    };
  }

  async getAccessToken(options: { forceRefresh: boolean }): Promise<string> {
    return (await this.get()).getAccessToken(options);
  }

  async cacheMark(): Promise<number> {
    return (await this.get()).cacheMark();
  }

  async signedInElsewhere(mark: number): Promise<Account | undefined> {
    return (await this.get()).signedInElsewhere(mark);
  }

  async signOut(): Promise<void> {
    return (await this.get()).signOut();
  }

  async close(): Promise<void> {
    await this.loaded?.close();
  }
}
