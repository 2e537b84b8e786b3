import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../files/atomic-write.js';

/**
 * When the account signed in and when its tokens were last refreshed from the server, kept in the
 * state folder (`signin.json`, no secret in it): `status` shows both, and at start the agent warns
 * when the last refresh is so old that the refresh token is near its 90 days (AADSTS700082).
 */

export const SIGNIN_RECORD_FILE = 'signin.json';

export interface SignInRecord {
  account: string;
  /** ISO 8601: the last sign-in with a code (on the device or with `login`). */
  signedInAt: string | null;
  /** ISO 8601: the last time the tokens were refreshed from the server. */
  lastRefreshAt: string | null;
}

export async function readSignInRecord(stateDirectory: string): Promise<SignInRecord | null> {
  try {
    const data = JSON.parse(await readFile(path.join(stateDirectory, SIGNIN_RECORD_FILE), 'utf8')) as Partial<SignInRecord>;
    if (typeof data.account !== 'string') return null;
    const iso = (v: unknown): string | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : null);
    return { account: data.account, signedInAt: iso(data.signedInAt), lastRefreshAt: iso(data.lastRefreshAt) };
  } catch {
    return null;
  }
}

/**
 * Writes the record after each sign-in and refresh, one write at a time (the newest wins), each
 * replacing the file atomically. A failed write is logged once, never thrown: the agent does not
 * need this file to work.
 */
export class SignInRecorder {
  private writing: Promise<void> = Promise.resolve();
  private current: SignInRecord | undefined;
  private failed = false;

  constructor(private readonly stateDirectory: string, private readonly logger: Logger) {}

  record(event: { kind: 'signed-in' | 'refreshed'; account: string; at: number }): Promise<void> {
    const at = new Date(event.at).toISOString();
    this.writing = this.writing.then(async () => {
      const before = this.current ?? (await readSignInRecord(this.stateDirectory));
      const same = before?.account === event.account;
      const next: SignInRecord = {
        account: event.account,
        // A sign-in is also the newest set of tokens.
        signedInAt: event.kind === 'signed-in' ? at : same ? before.signedInAt : null,
        lastRefreshAt: at,
      };
      this.current = next;
      try {
        await writeFileAtomic(path.join(this.stateDirectory, SIGNIN_RECORD_FILE), `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, keepOwner: true });
        this.failed = false;
      } catch (err) {
        if (this.failed) return;
        this.failed = true;
        this.logger.warn({ event: 'signin.record_failed', err: String(err) }, `could not write ${SIGNIN_RECORD_FILE} in the state folder: \`status\` will not show when the tokens were refreshed; check the folder is writable`);
      }
    });
    return this.writing;
  }

  /** Resolves once what was recorded so far is written (for `close` and tests). */
  flush(): Promise<void> {
    return this.writing;
  }
}
