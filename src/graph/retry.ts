/**
 * How long to wait before asking Graph again. Pure functions, so the policy is tested without
 * a server or a clock.
 */

export interface RetryPolicy {
  /** HTTP attempts in all, the first one included (the one 401 refresh retry is extra). */
  maxAttempts: number;
  /** First back-off ceiling; it doubles for each retry up to {@link maxDelayMs}. */
  baseDelayMs: number;
  /** Largest back-off ceiling. */
  maxDelayMs: number;
  /**
   * Longest `Retry-After` this client waits for. When Graph asks for more, the request gives up
   * rather than hold a job for minutes: the next scheduled run tries again.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/**
 * Exponential back-off with full jitter (a random delay between 0 and the ceiling), so devices
 * that failed together do not retry together. `retry` counts from 1. `floorMs` keeps throttling
 * answers from being retried at once, which Graph asks clients never to do.
 */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number, floorMs = 0): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.max(floorMs, Math.round(random() * ceiling));
}

/**
 * Milliseconds a `Retry-After` header asks for, or undefined when absent or unreadable.
 *
 * The header is either delta-seconds or an HTTP date. A date is measured against the response's
 * own `Date` header when there is one: a Pi without a real-time clock may be minutes or years
 * off, and the server's two timestamps agree with each other even when ours does not.
 */
export function retryAfterMs(value: string | undefined, responseDate: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const until = Date.parse(text);
  if (Number.isNaN(until)) return undefined;
  const serverNow = responseDate === undefined ? Number.NaN : Date.parse(responseDate);
  const reference = Number.isNaN(serverNow) ? nowMs : serverNow;
  return Math.max(0, until - reference);
}
