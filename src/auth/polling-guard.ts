import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

/** What the identity server said when it refused a token request. */
export interface ServerErrorReply {
  error: string;
  codes: number[];
  /** The first line of `error_description` (the rest is trace ids). */
  description: string;
  at: number;
}

const RFC8628_DEFAULT_INTERVAL_SEC = 5;

export interface PollingGuardOptions {
  /** msal-node polls without any delay when a server omits `interval`: never poll faster than this. */
  minIntervalSec: number;
  now?: () => number;
}

/**
 * Sits between msal-node and the network client, where the device code flow's replies pass:
 * - it remembers the last error reply from the token endpoint, because msal-node keeps only its
 *   `error` string and drops the AADSTS number the screen and log need;
 * - it puts a floor under the polling interval of a device code reply.
 */
export class PollingGuard implements INetworkModule {
  lastReply: ServerErrorReply | undefined;
  private readonly now: () => number;

  constructor(private readonly inner: INetworkModule, private readonly options: PollingGuardOptions) {
    this.now = options.now ?? Date.now;
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.inner.sendGetRequestAsync<T>(url, options, timeout);
  }

  async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const response = await this.inner.sendPostRequestAsync<T>(url, options);
    const body = response.body as Record<string, unknown> | undefined;
    if (body && typeof body === 'object') {
      if (isDeviceCodeEndpoint(url) && response.status === 200) {
        const interval = body.interval;
        if (typeof interval !== 'number' || !Number.isFinite(interval)) {
          body.interval = RFC8628_DEFAULT_INTERVAL_SEC; // RFC 8628 §3.2: 5 s when the server says nothing
        } else if (interval < this.options.minIntervalSec) {
          body.interval = this.options.minIntervalSec;
        }
      }
      if (typeof body.error === 'string' && body.error !== 'authorization_pending') {
        this.lastReply = {
          error: body.error,
          codes: Array.isArray(body.error_codes) ? body.error_codes.filter((c): c is number => typeof c === 'number') : [],
          description: typeof body.error_description === 'string' ? body.error_description.split(/\r?\n/)[0]!.slice(0, 300) : '',
          at: this.now(),
        };
      }
    }
    return response;
  }
}

function isDeviceCodeEndpoint(url: string): boolean {
  try {
    return new URL(url).pathname.endsWith('/devicecode');
  } catch {
    return false;
  }
}
