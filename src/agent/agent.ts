import type { Display } from '../display/display.js';
import { signedInPaging, warmUpScreens } from '../display/screens.js';
import { ScreenSession } from '../display/screen-session.js';
import type { Button } from '../button/button.js';
import type { IdentityPort, DeviceCodeAttempt } from '../auth/identity.js';
import { SignInFailedError } from '../auth/identity.js';
import type { JobsPort } from '../graph/jobs.js';
import { systemClock, type Clock } from '../clock.js';
import { withJitter } from '../retry/backoff.js';
import type { Logger } from '../log.js';
import { initialState, transition, type Effect, type Event, type State } from './machine.js';
import { describeState, screenFor } from './screen-for.js';

export interface AgentOptions {
  identity: IdentityPort;
  display: Display;
  button: Button;
  jobs: JobsPort;
  logger: Logger;
  autoRenewCodes: number;
  /** The display is open already (the CLI drew the first frame before loading the rest). */
  displayOpen?: boolean;
  /** How long "Sign out?" waits for the confirming press. */
  confirmTimeoutMs?: number;
  /** Burn-in: turn the panel off after this long on the signed-in screen with nothing happening; 0 = never. */
  sleepAfterMs?: number;
  now?: () => number;
  timers?: Omit<Clock, 'now'>;
  /** Called after every change of state (systemd STATUS=, tests). */
  onStateChange?: (state: State, description: string) => void;
  /** The display failed, or the button could not be started (notifications). */
  onFault?: (part: 'display' | 'button', error: string) => void;
  random?: () => number;
  /** Which device this is (config device.label): the code screen says to sign in only there. */
  deviceLabel?: string;
}


/**
 * The runner: feeds events into the state machine (machine.ts), carries out its effects on the
 * ports, and redraws the display after each change (and every second while a code counts down).
 */
export class Agent {
  private current: State = initialState;
  private readonly attempts = new Map<number, DeviceCodeAttempt>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly timers: Omit<Clock, 'now'>;
  private readonly random: () => number;
  /** The display: frames in order, the countdown's redraws, its failures logged once. */
  private readonly screen: ScreenSession;
  private countdownTicks = 0;
  private checkingCache = false;
  /** The token cache as it was when a code first went up (see IdentityPort.cacheMark). */
  private elsewhereMark: Promise<number | undefined> | undefined;
  private retryTimer: unknown;
  private confirmTimer: unknown;
  private sleepTimer: unknown;
  private asleep = false;
  private readonly waiters = new Set<{ test: (s: State) => boolean; resolve: (s: State) => void }>();

  constructor(private readonly options: AgentOptions) {
    this.log = options.logger;
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? systemClock;
    this.random = options.random ?? Math.random;
    this.screen = new ScreenSession({
      display: options.display, logger: this.log, now: this.now, timers: this.timers,
      ...(options.onFault ? { onProblem: (err: unknown) => options.onFault?.('display', String(err)) } : {}),
    });
  }

  get state(): State {
    return this.current;
  }

  /** Start-up order: the display first (so the person sees something), then the button, then sign-in. */
  async start(): Promise<void> {
    if (!this.options.displayOpen) await this.screen.open();
    await this.redraw();
    // While the first frame is up and before any code can arrive (msal-node still has to load).
    setImmediate(warmUpScreens);
    try {
      await this.options.button.start({
        pressed: () => {
          this.wake();
          this.dispatch({ type: 'pressed' });
        },
        held: () => {
          this.wake();
          this.dispatch({ type: 'held' });
        },
      });
    } catch (err) {
      // A button driver should report its own problems; one that throws must not stop the agent.
      this.options.onFault?.('button', String(err));
      this.log.warn({ event: 'button.unavailable', button: this.options.button.name, err: String(err) },
        `the button could not be started (${String(err)}); running without it: the signals still work (systemctl kill -s SIGUSR1 ...)`);
    }
    this.dispatch({ type: 'started' });
  }

  /** Shutdown order: stop polling and jobs, release the button, show "Stopped", release the display. */
  async stop(): Promise<void> {
    this.dispatch({ type: 'stop' });
    this.stopCountdown();
    this.screen.stopPaging();
    for (const t of [this.retryTimer, this.confirmTimer, this.sleepTimer]) if (t !== undefined) this.timers.clearTimeout(t);
    await Promise.resolve(this.options.jobs.stop());
    await this.options.button.stop().catch((err: unknown) => this.log.warn({ event: 'button.error', err: String(err) }, 'could not release the button'));
    await this.screen.close();
    await this.options.identity.close();
  }

  /** Resolves once the agent is in a state that passes `test` (for the CLI's `login` and tests). */
  waitFor(test: (s: State) => boolean): Promise<State> {
    if (test(this.current)) return Promise.resolve(this.current);
    return new Promise((resolve) => this.waiters.add({ test, resolve }));
  }

  dispatch(event: Event): void {
    const before = this.current;
    const { state, effects } = transition(before, event, {
      autoRenewCodes: this.options.autoRenewCodes,
      ...(this.options.confirmTimeoutMs !== undefined ? { confirmTimeoutMs: this.options.confirmTimeoutMs } : {}),
    });
    this.current = state;
    if (state !== before) {
      const description = describeState(state);
      if (state.name !== before.name) {
        this.log.info({ event: 'state.changed', from: before.name, to: state.name, trigger: event.type }, description);
      }
      this.logConnectivity(before, state);
      this.options.onStateChange?.(state, description);
      if (state.name === 'showing-code') this.startCountdown();
      else this.stopCountdown();
      this.updatePaging();
      // A sign-in by another process counts from the first code of this sign-in on.
      if (state.name === 'signed-in' || state.name === 'stopping') this.elsewhereMark = undefined;
      if (state.name !== before.name) this.scheduleSleep(state);
      void this.redraw();
      for (const w of [...this.waiters]) {
        if (w.test(state)) {
          this.waiters.delete(w);
          w.resolve(state);
        }
      }
    }
    for (const effect of effects) this.run(effect);
  }

  /** Going offline is logged once (with what to check), coming back once; not every failed request. */
  private logConnectivity(before: State, after: State): void {
    const online = (s: State): boolean | undefined => (s.name === 'signed-in' ? s.online : s.name === 'confirm-sign-out' ? s.signedIn.online : undefined);
    const was = online(before);
    const is = online(after);
    if (was === true && is === false) {
      this.log.warn({ event: 'agent.offline' }, 'Graph and the sign-in service cannot be reached: retrying by itself; check the network (Wi-Fi, DNS, proxy) if this lasts');
    } else if (was === false && is === true) {
      this.log.info({ event: 'agent.online' }, 'connected again');
    }
  }

  private run(effect: Effect): void {
    switch (effect.type) {
      case 'try-silent':
        this.options.identity.trySilent().then(
          (outcome) => this.dispatch(outcome.kind === 'ok'
            ? { type: 'silent-succeeded', account: outcome.account, online: outcome.online }
            : { type: 'silent-needs-sign-in', ...(outcome.why ? { why: outcome.why } : {}), ...(outcome.lapse ? { lapse: outcome.lapse } : {}) }),
          (err: unknown) => {
            this.log.error({ event: 'error', where: 'try-silent', err: String(err) }, 'reading the cached sign-in failed: starting a new sign-in');
            this.dispatch({ type: 'silent-needs-sign-in' });
          },
        );
        return;
      case 'start-device-code': {
        const attempt = effect.attempt;
        const handle = this.options.identity.startDeviceCode(
          (code) => this.dispatch({ type: 'code-issued', attempt, code }),
          (offline) => this.dispatch({ type: 'code-offline', attempt, offline }),
        );
        this.attempts.set(attempt, handle);
        handle.result.then(
          (account) => this.dispatch({ type: 'sign-in-succeeded', attempt, account }),
          (err: unknown) => this.dispatch({
            type: 'sign-in-failed',
            attempt,
            failure: err instanceof SignInFailedError ? err.failure : { kind: 'server', reason: 'Sign-in failed unexpectedly' },
          }),
        ).finally(() => this.attempts.delete(attempt));
        return;
      }
      case 'cancel-device-code':
        this.attempts.get(effect.attempt)?.cancel();
        return;
      case 'resume-jobs':
        this.options.jobs.resume();
        this.runJobs();
        return;
      case 'run-jobs-now':
        this.runJobs();
        return;
      case 'pause-jobs':
        this.options.jobs.pause();
        return;
      case 'sign-out':
        this.options.identity.signOut().then(
          () => this.dispatch({ type: 'signed-out' }),
          (err: unknown) => this.log.error({ event: 'error', where: 'sign-out', err: String(err) }, 'signing out failed'),
        );
        return;
      case 'confirm-timeout':
        if (this.confirmTimer !== undefined) this.timers.clearTimeout(this.confirmTimer);
        this.confirmTimer = this.timers.setTimeout(() => {
          this.confirmTimer = undefined;
          this.dispatch({ type: 'confirm-timed-out' });
        }, effect.afterMs);
        return;
      case 'retry-later':
        if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
        {
          // Jitter (half to all of the wait), so devices that lost the same network don't return in step.
          const afterMs = withJitter(effect.afterMs, 'half', this.random);
          this.log.info({ event: 'retry.scheduled', state: this.current.name, after_ms: afterMs }, `trying again in ${Math.round(afterMs / 1000)} s`);
          this.retryTimer = this.timers.setTimeout(() => {
            this.retryTimer = undefined;
            this.dispatch({ type: 'retry' });
          }, afterMs);
        }
        return;
    }
  }

  /**
   * OLEDs burn in: on the signed-in screen the panel goes dark after a while with nothing
   * happening. Any other state (a code to read, an error to act on) keeps it on, and a change of
   * state or a press wakes it.
   */
  private scheduleSleep(state: State): void {
    if (this.sleepTimer !== undefined) {
      this.timers.clearTimeout(this.sleepTimer);
      this.sleepTimer = undefined;
    }
    const after = this.options.sleepAfterMs ?? 0;
    if (state.name !== 'signed-in') {
      this.wake();
      return;
    }
    this.wake();
    if (after <= 0) return;
    this.sleepTimer = this.timers.setTimeout(() => {
      this.sleepTimer = undefined;
      if (this.current.name !== 'signed-in') return;
      this.asleep = true;
      this.log.info({ event: 'display.sleep', after_ms: after }, 'display off (burn-in protection); a press wakes it');
      this.screen.setPower(false);
      this.updatePaging();
    }, after);
  }

  private wake(): void {
    if (this.asleep) {
      this.asleep = false;
      this.log.info({ event: 'display.wake' }, 'display on');
      this.screen.setPower(true);
      this.updatePaging();
    }
    if (this.current.name === 'signed-in' && this.sleepTimer !== undefined) this.scheduleSleep(this.current);
  }

  private runJobs(): void {
    this.options.jobs.runNow().catch((err: unknown) => this.log.error({ event: 'error', where: 'jobs', err: String(err) }, 'running the Graph jobs failed'));
  }

  private countingDown = false;

  private startCountdown(): void {
    if (this.countingDown) return;
    this.countingDown = true;
    this.elsewhereMark ??= this.options.identity.cacheMark().catch(() => undefined);
    this.countdownTicks = 0;
    this.screen.startCountdown(() => {
      void this.redraw();
      // Every 10 s: did `graph-device-agent login` (over SSH) sign in meanwhile? One stat of the
      // cache file when nothing changed.
      if (++this.countdownTicks % 10 === 0) this.checkSignedInElsewhere();
    });
  }

  /**
   * Only a sign-in written to the cache by another process after the code went up ends the code
   * screen: never the tokens the server refused (they may still look valid by their own clock),
   * so a code stays up, and polled, while a person types it on a phone.
   */
  private checkSignedInElsewhere(): void {
    if (this.checkingCache || this.elsewhereMark === undefined) return;
    this.checkingCache = true;
    this.elsewhereMark.then((mark) => (mark === undefined ? undefined : this.options.identity.signedInElsewhere(mark))).then(
      (account) => {
        if (account) this.dispatch({ type: 'signed-in-elsewhere', account });
      },
      () => undefined,
    ).finally(() => {
      this.checkingCache = false;
    });
  }

  private stopCountdown(): void {
    this.countingDown = false;
    this.screen.stopCountdown();
  }

  /**
   * Job lines that do not fit the panel take turns in pages (screens.ts): redrawn every page period
   * while they do, and only then, so a signed-in agent with lines that fit stays at 0% CPU. Not
   * while the panel sleeps.
   */
  private updatePaging(): void {
    const state = this.current;
    const { display } = this.options;
    const paging = state.name === 'signed-in' && !this.asleep
      ? signedInPaging(screenFor(state, this.now(), this.screenOptions()), { width: display.width, height: display.height })
      : { pages: 1, periodMs: 0 };
    if (paging.pages > 1) this.screen.startPaging(() => void this.redraw(), paging.periodMs);
    else this.screen.stopPaging();
  }

  private screenOptions(): { deviceLabel?: string } {
    return this.options.deviceLabel ? { deviceLabel: this.options.deviceLabel } : {};
  }

  /** Draws the current state. Frames are serialized; a failing display never stops the agent. */
  private redraw(): Promise<void> {
    const state = this.current;
    // Skipped when a newer state's frame is queued behind it (on the way out, every frame is drawn).
    const options = this.screenOptions();
    return this.screen.draw((now) => screenFor(state, now, options), () => state !== this.current && this.current.name !== 'stopping');
  }
}
