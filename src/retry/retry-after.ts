/**
 * The one reader of HTTP's `Retry-After` header (RFC 9110 §10.2.3), for Graph and for the
 * sign-in server alike.
 */

/**
 * The longest wait a `Retry-After` can ask for: one day. A larger value is a broken server or a
 * proxy's mistake, and Node's timers cannot even hold more than 24.8 days (a longer timeout fires
 * at once, which would turn "wait" into a busy loop). Callers that wait less refuse it themselves.
 */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export interface RetryAfterOptions {
  /** The response's own `Date` header, if any. */
  date?: string | undefined;
  /** Our clock, epoch milliseconds: for a date without a `Date` header. */
  nowMs: number;
  /** Longer waits are clamped to this; {@link MAX_RETRY_AFTER_MS} by default. */
  maxMs?: number;
}

/** HTTP dates (IMF-fixdate, RFC 850, asctime) all start with the day's name. */
const HTTP_DATE = /^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,? /i;
const DELTA_SECONDS = /^\d+(\.\d+)?$/;

/**
 * Milliseconds a `Retry-After` value asks for, or undefined when it is absent or unreadable.
 *
 * The value is either delta-seconds or an HTTP date. A date is measured against the response's
 * own `Date` header when there is one: a Pi without a real-time clock may be minutes or years
 * off, and the server's two timestamps agree with each other even when ours does not. A date in
 * the past asks for no wait (0); anything above the maximum is clamped to it.
 */
export function parseRetryAfter(value: string | undefined, options: RetryAfterOptions): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const maxMs = options.maxMs ?? MAX_RETRY_AFTER_MS;
  if (DELTA_SECONDS.test(text)) return Math.min(maxMs, Math.round(Number(text) * 1000));
  if (!HTTP_DATE.test(text)) return undefined;
  const until = Date.parse(text);
  if (Number.isNaN(until)) return undefined;
  const serverNow = options.date === undefined ? Number.NaN : Date.parse(options.date);
  const reference = Number.isNaN(serverNow) ? options.nowMs : serverNow;
  return Math.min(maxMs, Math.max(0, until - reference));
}

/** The value of the header `name` among `headers`, whatever the case of the names. */
export function headerValue(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return Object.entries(headers).find(([key]) => key.toLowerCase() === wanted)?.[1];
}
