import { randomBytes, randomInt } from 'node:crypto';

/**
 * Device codes and their life, as Entra keeps them: issued pending, then approved or declined by
 * the person on the verification page (or by a test), redeemed once by a poll, or expired.
 * Pure state with an injected clock; the HTTP layer maps outcomes to replies.
 */

/** No 0/O, 1/I/L: a person copies the code from a 128x64 screen into a phone. */
export const USER_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const USER_CODE_LENGTH = 9;

export type DeviceCodeStatus = 'pending' | 'approved' | 'declined' | 'redeemed';

export interface DeviceCodeRecord {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  /** The tenant path segment the code was requested under ('organizations', a GUID, ...). */
  tenant: string;
  issuedAt: number;
  expiresAt: number;
  status: DeviceCodeStatus;
  /** Who approved it (object id). */
  userId?: string;
  /** Already returned by waitForDeviceCode. */
  handedOut: boolean;
}

/** What a test learns about an issued code: everything but the secret device_code. */
export interface IssuedDeviceCode {
  userCode: string;
  clientId: string;
  scopes: string[];
  tenant: string;
  /** Emulator clock, ms. */
  issuedAt: number;
  expiresAt: number;
}

export type PollOutcome =
  | { kind: 'unknown' }
  | { kind: 'pending'; record: DeviceCodeRecord }
  | { kind: 'declined'; record: DeviceCodeRecord }
  | { kind: 'expired'; record: DeviceCodeRecord }
  | { kind: 'already-redeemed'; record: DeviceCodeRecord }
  | { kind: 'approved'; record: DeviceCodeRecord };

export type DecisionOutcome =
  | { kind: 'done'; record: DeviceCodeRecord }
  | { kind: 'unknown' }
  | { kind: 'expired'; record: DeviceCodeRecord }
  | { kind: 'already-decided'; record: DeviceCodeRecord };

/** Upper case, without the spaces and dashes people type to group characters. */
export function normalizeUserCode(input: string): string {
  return input.replace(/[\s-]+/g, '').toUpperCase();
}

function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** Long and opaque like Entra's ("DAQABIQEAAAB..."), and random: it is a bearer secret. */
function newDeviceCode(): string {
  return `DAQABIQEAAAB${randomBytes(96).toString('base64url')}`;
}

export function describeIssued(record: DeviceCodeRecord): IssuedDeviceCode {
  return {
    userCode: record.userCode,
    clientId: record.clientId,
    scopes: [...record.scopes],
    tenant: record.tenant,
    issuedAt: record.issuedAt,
    expiresAt: record.expiresAt,
  };
}

export class DeviceCodeStore {
  private readonly byDeviceCode = new Map<string, DeviceCodeRecord>();
  private readonly byUserCode = new Map<string, DeviceCodeRecord>();
  private waiters: Array<{ resolve: (code: IssuedDeviceCode) => void; reject: (err: Error) => void }> = [];
  private closedError: Error | undefined;

  constructor(
    private readonly now: () => number,
    private readonly lifetimeMs: () => number,
  ) {}

  issue(request: { clientId: string; scopes: string[]; tenant: string }): DeviceCodeRecord {
    let userCode = newUserCode();
    // A clash with a live code would let one person approve another's device.
    while (this.byUserCode.has(userCode)) userCode = newUserCode();
    const issuedAt = this.now();
    const record: DeviceCodeRecord = {
      deviceCode: newDeviceCode(),
      userCode,
      clientId: request.clientId,
      scopes: request.scopes,
      tenant: request.tenant,
      issuedAt,
      expiresAt: issuedAt + this.lifetimeMs(),
      status: 'pending',
      handedOut: false,
    };
    this.byDeviceCode.set(record.deviceCode, record);
    this.byUserCode.set(record.userCode, record);
    const waiters = this.waiters;
    this.waiters = [];
    if (waiters.length > 0) {
      record.handedOut = true;
      for (const waiter of waiters) waiter.resolve(describeIssued(record));
    }
    return record;
  }

  findByUserCode(userCode: string): DeviceCodeRecord | undefined {
    return this.byUserCode.get(normalizeUserCode(userCode));
  }

  isExpired(record: DeviceCodeRecord): boolean {
    return this.now() >= record.expiresAt;
  }

  /** Codes a person could still approve, newest first (the verification page lists them). */
  pending(): DeviceCodeRecord[] {
    return [...this.byDeviceCode.values()]
      .filter((r) => r.status === 'pending' && !this.isExpired(r))
      .sort((a, b) => b.issuedAt - a.issuedAt);
  }

  approve(userCode: string, userId: string): DecisionOutcome {
    return this.decide(userCode, 'approved', userId);
  }

  deny(userCode: string): DecisionOutcome {
    return this.decide(userCode, 'declined');
  }

  private decide(userCode: string, status: 'approved' | 'declined', userId?: string): DecisionOutcome {
    const record = this.findByUserCode(userCode);
    if (!record) return { kind: 'unknown' };
    if (record.status !== 'pending') return { kind: 'already-decided', record };
    if (this.isExpired(record)) return { kind: 'expired', record };
    record.status = status;
    if (userId) record.userId = userId;
    return { kind: 'done', record };
  }

  /**
   * One poll of the token endpoint. An approved code is redeemed by the poll that sees it, and
   * a second redemption fails: a device code is single-use. Expiry wins over a pending or an
   * approved-but-unredeemed code; a decline stays a decline.
   */
  poll(deviceCode: string, clientId: string): PollOutcome {
    const record = this.byDeviceCode.get(deviceCode);
    // A code is bound to the client that asked for it.
    if (!record || record.clientId !== clientId) return { kind: 'unknown' };
    if (record.status === 'redeemed') return { kind: 'already-redeemed', record };
    if (record.status === 'declined') return { kind: 'declined', record };
    if (this.isExpired(record)) return { kind: 'expired', record };
    if (record.status === 'pending') return { kind: 'pending', record };
    record.status = 'redeemed';
    return { kind: 'approved', record };
  }

  /**
   * The newest still-pending code not yet handed to a waiter, or else the next one issued. Every
   * caller waiting when a code is issued gets that code.
   */
  waitForDeviceCode(): Promise<IssuedDeviceCode> {
    if (this.closedError) return Promise.reject(this.closedError);
    const ready = this.pending().find((r) => !r.handedOut);
    if (ready) {
      ready.handedOut = true;
      return Promise.resolve(describeIssued(ready));
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Fails every pending waitForDeviceCode: a test must not hang on a closed emulator. */
  close(): void {
    this.closedError = new Error('identity emulator closed before a device code was issued');
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(this.closedError);
  }

  deviceCodes(): string[] {
    return [...this.byDeviceCode.keys()];
  }
}
