/**
 * How patient the Graph client is. The waits themselves come from the agent's one back-off and
 * Retry-After reader (retry/).
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
