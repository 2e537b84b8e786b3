/**
 * The identity emulator in a process of its own, for the soak test: the soak measures the
 * agent's heap and handles, and the emulator keeps every token it ever issued (by design: tests
 * ask it what it issued). Out here its growth is not the agent's.
 *
 * Driven over the IPC channel: every message `{ id, cmd, ... }` gets one reply `{ id, ok, result }`
 * or `{ id, ok: false, error }`. Its clock is the soak's virtual clock, set by `time` messages;
 * the soak waits for the reply before the agent makes another request, so the two agree.
 */
import { startIdentityEmulator, type IdentityEmulator, type IdentityEmulatorOptions } from '../support/identity-emulator/index.js';

export type EmulatorCommand =
  | { cmd: 'start'; now: number; options: Omit<IdentityEmulatorOptions, 'now' | 'logger' | 'graphRoutes'> }
  | { cmd: 'time'; now: number }
  | { cmd: 'approve'; userCode: string }
  | { cmd: 'revoke' }
  /** Every request to the identity and Graph endpoints loses its connection, until `on: false`. */
  | { cmd: 'outage'; on: boolean }
  /** The next Graph request loses its connection (a Wi-Fi glitch): the client's retry must cover it. */
  | { cmd: 'glitch' }
  /** What was served since the last `stats`, then forgotten (the request log would grow for a month). */
  | { cmd: 'stats' }
  /** The (virtual) time of the last token the token endpoint issued. */
  | { cmd: 'lastToken' }
  | { cmd: 'close' };

export interface EmulatorAddress {
  authority: string;
  knownAuthority: string;
  graphBaseUrl: string;
  caFile: string;
}

export interface ServedStats {
  /** "GET /v1.0/me 200" → count */
  graph: Record<string, number>;
  /** "refresh_token 200", "device_code 400" → count */
  token: Record<string, number>;
  openid: number;
  devicecode: number;
  /** Requests that got an injected fault (outage, glitch). */
  faulted: number;
}

let now = 0;
let idp: IdentityEmulator | undefined;
let lastTokenAt = 0;

function noteTokens(emulator: IdentityEmulator): number {
  for (const r of emulator.requests) if (r.endpoint === 'token' && r.status === 200) lastTokenAt = Math.max(lastTokenAt, r.at);
  return lastTokenAt;
}

function stats(emulator: IdentityEmulator): ServedStats {
  noteTokens(emulator);
  const out: ServedStats = { graph: {}, token: {}, openid: 0, devicecode: 0, faulted: 0 };
  // Entries still waiting for their reply (status 0) stay for the next call.
  const done = emulator.requests.filter((r) => r.status !== 0 || r.fault);
  const pending = emulator.requests.filter((r) => r.status === 0 && !r.fault);
  for (const r of done) {
    if (r.fault) out.faulted += 1;
    else if (r.endpoint === 'graph') out.graph[`${r.method} ${r.path} ${r.status}`] = (out.graph[`${r.method} ${r.path} ${r.status}`] ?? 0) + 1;
    else if (r.endpoint === 'token') out.token[`${r.grantType ?? '?'} ${r.status}`] = (out.token[`${r.grantType ?? '?'} ${r.status}`] ?? 0) + 1;
    else if (r.endpoint === 'openid') out.openid += 1;
    else if (r.endpoint === 'devicecode') out.devicecode += 1;
  }
  emulator.requests.length = 0;
  emulator.requests.push(...pending);
  return out;
}

async function handle(message: EmulatorCommand): Promise<unknown> {
  switch (message.cmd) {
    case 'start': {
      now = message.now;
      idp = await startIdentityEmulator({ ...message.options, now: () => now });
      const address: EmulatorAddress = { authority: idp.authority, knownAuthority: idp.knownAuthority, graphBaseUrl: idp.graphBaseUrl, caFile: idp.caFile };
      return address;
    }
    case 'time':
      now = message.now;
      return undefined;
    case 'close':
      await idp?.close();
      return undefined;
  }
  if (!idp) throw new Error('the emulator is not started');
  switch (message.cmd) {
    case 'approve':
      idp.approve(message.userCode);
      return undefined;
    case 'revoke':
      return idp.revokeRefreshTokens();
    case 'outage':
      idp.faults.clear();
      if (message.on) {
        for (const endpoint of ['openid', 'devicecode', 'token', 'graph'] as const) idp.faults.push({ endpoint, destroySocket: true, count: Infinity });
      }
      return undefined;
    case 'glitch':
      idp.faults.push({ endpoint: 'graph', destroySocket: true });
      return undefined;
    case 'stats':
      return stats(idp);
    case 'lastToken':
      return noteTokens(idp);
  }
}

process.on('message', (raw) => {
  const { id, ...message } = raw as EmulatorCommand & { id: number };
  handle(message as EmulatorCommand).then(
    (result) => process.send?.({ id, ok: true, result }, () => {
      // Closed: let go of the channel, and the process ends.
      if (message.cmd === 'close') process.disconnect?.();
    }),
    (err: unknown) => process.send?.({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
