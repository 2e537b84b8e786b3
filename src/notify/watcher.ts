import type { State } from '../agent/machine.js';
import type { Clock } from '../clock.js';
import type { NotificationInput, SignInLapse } from './notification.js';

/**
 * Turns what the agent does into notifications, each once per occurrence, never once per poll:
 *
 * - `signin.needed`: a device that was signed in (in this run, or a cached sign-in that stopped
 *   working at start) now needs a person. Sent when the first code is on the screen (with it, if
 *   the operator allows), or when the device waits for a press (signed out, no code to be had);
 *   renewed codes of the same lapse send nothing more. A first start, never signed in: nothing.
 * - `signin.succeeded`: a person signed in with a code (not a restart restoring a sign-in).
 * - `graph.failing`: no Graph job has succeeded for `graphFailingAfterMs` since the first failure;
 *   `graph.recovered` at the next success after that.
 * - `device.display_failed` / `device.button_failed`: once per failure (the display's recovery
 *   makes the next failure a new occurrence).
 *
 * Holds no I/O: it calls `emit`, and its one timer (Graph failing) is the injected clock's.
 */
export interface WatcherOptions {
  emit(input: NotificationInput): void;
  now(): number;
  timers: Omit<Clock, 'now'>;
  graphFailingAfterMs: number;
  includeUserCode: boolean;
}

type Name = State['name'];
const SIGNED_IN: readonly Name[] = ['signed-in', 'confirm-sign-out'];
const WAITING_FOR_PERSON: readonly Name[] = ['requesting-code', 'showing-code', 'needs-press'];

export class NotificationWatcher {
  private previous: Name = 'starting';
  private account: string | undefined;
  /** A lapse not yet told: set when a signed-in device starts asking for a sign-in. */
  private lapse: { reason: SignInLapse; account?: string | undefined } | undefined;
  private graphFailingSince: number | undefined;
  private graphTimer: unknown;
  private graphToldSince: number | undefined;

  constructor(private readonly options: WatcherOptions) {}

  onState(state: State): void {
    const before = this.previous;
    this.previous = state.name;
    if (state.name === 'signed-in') {
      if (WAITING_FOR_PERSON.includes(before)) {
        this.options.emit({ event: 'signin.succeeded', account: state.account.username, name: state.account.name });
      }
      this.account = state.account.username;
      this.lapse = undefined;
      return;
    }
    if (SIGNED_IN.includes(state.name)) return;
    // Not signed in: Graph's silence is the sign-in's doing, not an outage.
    this.stopGraphClock();
    if (SIGNED_IN.includes(before) && WAITING_FOR_PERSON.includes(state.name)) {
      const reason: SignInLapse = state.name === 'needs-press' && state.problem.kind === 'signed-out' ? 'signed-out'
        : state.name === 'requesting-code' || state.name === 'showing-code' ? state.lapse ?? 'expired' : 'expired';
      this.lapse = { reason, account: this.account };
    } else if (before === 'checking-cache' && state.name === 'requesting-code' && state.lapse) {
      // At start: the cached sign-in stopped working (a long power-off, a revocation meanwhile).
      this.lapse = { reason: state.lapse };
    }
    if (!this.lapse) return;
    if (state.name === 'showing-code') {
      this.tell({ verificationUri: state.code.verificationUri, ...(this.options.includeUserCode ? { userCode: state.code.userCode } : {}) });
    } else if (state.name === 'needs-press') {
      this.tell({});
    }
  }

  /** A Graph job's result (any job): a success ends a failure; the first failure starts the clock. */
  onGraphResult(ok: boolean): void {
    if (ok) {
      this.stopGraphClock();
      if (this.graphToldSince !== undefined) {
        this.options.emit({ event: 'graph.recovered', since: this.graphToldSince });
        this.graphToldSince = undefined;
      }
      return;
    }
    if (this.graphFailingSince !== undefined) return;
    const since = this.options.now();
    this.graphFailingSince = since;
    this.graphTimer = this.options.timers.setTimeout(() => {
      this.graphTimer = undefined;
      if (this.graphToldSince !== undefined) return; // told already, not recovered since
      this.graphToldSince = since;
      this.options.emit({ event: 'graph.failing', since });
    }, this.options.graphFailingAfterMs);
  }

  onFault(part: 'display' | 'button', error: string): void {
    this.options.emit({ event: part === 'display' ? 'device.display_failed' : 'device.button_failed', error });
  }

  stop(): void {
    this.stopGraphClock();
  }

  private tell(extra: { verificationUri?: string; userCode?: string }): void {
    const lapse = this.lapse!;
    this.lapse = undefined;
    this.options.emit({ event: 'signin.needed', reason: lapse.reason, ...(lapse.account ? { account: lapse.account } : {}), ...extra });
  }

  private stopGraphClock(): void {
    if (this.graphTimer !== undefined) this.options.timers.clearTimeout(this.graphTimer);
    this.graphTimer = undefined;
    this.graphFailingSince = undefined;
  }
}
