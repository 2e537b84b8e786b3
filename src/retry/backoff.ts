/**
 * How long to wait before trying again: the one exponential back-off of the agent (Graph calls,
 * device code polling while offline, the agent's offline retries, the token cache lock). Pure:
 * the randomness is injected, so each policy is tested without a clock.
 */

/**
 * How a wait is spread, so devices that failed together (a network outage, a server restart)
 * do not all come back in the same second:
 * - `none`: exactly the wait;
 * - `full`: anywhere from 0 to the wait ("full jitter");
 * - `half`: from half of the wait to all of it;
 * - `around`: from half of the wait to one and a half times it (the mean is the wait).
 */
export type Jitter = 'none' | 'full' | 'half' | 'around';

export interface Backoff {
  /** The first wait, before jitter. It doubles with each attempt. */
  baseMs: number;
  /** The largest wait, before jitter. */
  maxMs: number;
  jitter: Jitter;
}

/** Beyond this the doubling has long reached any cap; it also keeps 2 ** n finite. */
const MAX_DOUBLINGS = 30;

/**
 * The wait before retry number `attempt` (0 for the first retry): `baseMs · 2^attempt`, capped at
 * `maxMs`, then spread by the jitter. Whole milliseconds. `random` returns a number in [0, 1).
 */
export function backoffMs(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const doublings = Math.min(MAX_DOUBLINGS, Math.max(0, Math.floor(attempt)));
  const wait = Math.min(backoff.maxMs, backoff.baseMs * 2 ** doublings);
  return withJitter(wait, backoff.jitter, random);
}

/** `ms` spread by `jitter` (see {@link Jitter}), in whole milliseconds. */
export function withJitter(ms: number, jitter: Jitter, random: () => number = Math.random): number {
  switch (jitter) {
    case 'none':
      return Math.round(ms);
    case 'full':
      return Math.round(ms * random());
    case 'half':
      return Math.round(ms * (0.5 + random() / 2));
    case 'around':
      return Math.round(ms * (0.5 + random()));
  }
}
