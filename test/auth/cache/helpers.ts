import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../src/log.js';

export const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
export const OTHER_CLIENT_ID = '99999999-8888-7777-6666-555555555555';
/** Looks like an Entra refresh token; must never appear on disk in clear. */
export const REFRESH_TOKEN = '0.AXYAtestRefreshTokenSecretQ2hhbmdlTWUuRG9Ob3RMb2c';
export const USERNAME = 'ada@example.org';

/** A cache in msal-node's serialization schema: one account and its refresh token. */
export function sampleCache(clientId = CLIENT_ID, refreshToken = REFRESH_TOKEN): string {
  const home = 'uid1.tid1';
  const env = 'login.microsoftonline.com';
  return JSON.stringify({
    Account: {
      [`${home}-${env}-tid1`]: {
        home_account_id: home, environment: env, realm: 'tid1', local_account_id: 'uid1',
        username: USERNAME, authority_type: 'MSSTS', name: 'Ada',
      },
    },
    IdToken: {},
    AccessToken: {},
    RefreshToken: {
      [`${home}-${env}-refreshtoken-${clientId}--`]: {
        home_account_id: home, environment: env, credential_type: 'RefreshToken', client_id: clientId, secret: refreshToken,
      },
    },
    AppMetadata: {},
  });
}

export type LogLine = Record<string, unknown> & { event?: string; level?: string; msg?: string };

/** A real pino logger at debug whose lines are kept, parsed. */
export function captureLog(): { logger: Logger; lines: LogLine[]; text: () => string } {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines, text: () => raw.join('\n') };
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gda-cache-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * msal cache JSON with one account `name` and its refresh token, under keys of its own: merged
 * into a TokenCache (deserialize merges) it adds one account and touches nothing else.
 */
export function accountEntry(name: string, clientId = CLIENT_ID): string {
  const home = `${name}.tid1`;
  const env = 'login.microsoftonline.com';
  return JSON.stringify({
    Account: {
      [`${home}-${env}-tid1`]: {
        home_account_id: home, environment: env, realm: 'tid1', local_account_id: name,
        username: `${name}@example.org`, authority_type: 'MSSTS', name,
        // As msal-node 7 writes it; without it msal reports the account with an empty username.
        tenantProfiles: [JSON.stringify({ tenantId: 'tid1', localAccountId: name, name, username: `${name}@example.org`, isHomeTenant: true })],
      },
    },
    IdToken: {},
    AccessToken: {},
    RefreshToken: {
      [`${home}-${env}-refreshtoken-${clientId}--`]: {
        home_account_id: home, environment: env, credential_type: 'RefreshToken', client_id: clientId, secret: `rt-${name}`,
      },
    },
    AppMetadata: {},
  });
}

/** The account names in a decrypted msal cache JSON. */
export function accountNames(json: string): string[] {
  const cache = JSON.parse(json) as { Account?: Record<string, { name?: string }> };
  return Object.values(cache.Account ?? {}).map((a) => a.name ?? '').sort();
}
