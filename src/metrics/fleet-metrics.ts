import type { State } from '../agent/machine.js';
import type { JobRun } from '../graph/jobs.js';

/**
 * What a fleet operator watches, in Prometheus's text exposition format (version 0.0.4), for
 * node_exporter's textfile collector. Pure: it is told what happened and renders text; writing
 * the file is textfile.ts's job.
 *
 * Times are Unix timestamps (`*_timestamp_seconds`), not ages: the file changes only when
 * something happens, so an age written into it would be stale by the time it is scraped. The
 * age is one PromQL expression away: `time() - graph_device_agent_token_last_success_timestamp_seconds`.
 *
 * No user data: job names and state names come from the configuration and the code. The
 * signed-in account (a UPN) appears only with `includeAccount`.
 */

export const STATES: readonly State['name'][] = [
  'starting', 'checking-cache', 'requesting-code', 'showing-code', 'signed-in', 'needs-press', 'confirm-sign-out', 'stopping',
];

export interface FleetMetricsOptions {
  version: string;
  jobs: readonly string[];
  includeAccount: boolean;
  now?: () => number;
}

interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

export class FleetMetrics {
  private readonly now: () => number;
  private readonly startedAt: number;
  private state: State['name'] = 'starting';
  private account: string | undefined;
  private tokenOkAt: number | undefined;
  private readonly jobOkAt = new Map<string, number>();
  private readonly jobRuns = new Map<string, { ok: number; failed: number }>();
  /** Failures by job and kind: Graph's kinds (throttled, forbidden, network …), or a token's. */
  private readonly jobFailures = new Map<string, number>();
  private readonly signInProblems = new Map<string, number>();
  private codesIssued = 0;
  private codeRenewals = 0;
  private lastAttempt: number | undefined;
  private displayUp: boolean | undefined;
  private displayErrors = 0;
  private buttonUp: boolean | undefined;

  constructor(private readonly options: FleetMetricsOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    for (const job of options.jobs) this.jobRuns.set(job, { ok: 0, failed: 0 });
  }

  /** The agent's new state. Returns whether anything the file shows changed. */
  stateChanged(state: State): boolean {
    const before = this.state;
    this.state = state.name;
    if (state.name === 'signed-in') this.account = state.account.username;
    else if (state.name !== 'confirm-sign-out' && state.name !== 'stopping') this.account = undefined;
    if (state.name === 'requesting-code' && state.attempt !== this.lastAttempt) {
      this.lastAttempt = state.attempt;
      // A new attempt with renewals > 0 is an expired code replaced without a press.
      if (state.renewals > 0) this.codeRenewals += 1;
    }
    if (state.name === 'showing-code' && before !== 'showing-code') this.codesIssued += 1;
    if (state.name === 'needs-press' && before !== 'needs-press') this.bump(this.signInProblems, state.problem.kind);
    return true;
  }

  /** An access token was handed to Graph (from the cache or refreshed). */
  tokenSucceeded(): void {
    this.tokenOkAt = this.now();
  }

  jobFinished(run: JobRun): void {
    const counts = this.runsOf(run.job);
    if (run.ok) {
      counts.ok += 1;
      this.jobOkAt.set(run.job, Date.parse(run.startedAt) + run.durationMs);
    } else {
      counts.failed += 1;
      this.bump(this.jobFailures, `${run.job}\0${run.result.ok ? 'unknown' : run.result.kind}`);
    }
  }

  /** A run that never reached Graph: no token (`needs-sign-in`) or no network to get one (`token-unavailable`). */
  jobFailedBeforeGraph(job: string, kind: 'needs-sign-in' | 'token-unavailable' | 'error'): void {
    this.runsOf(job).failed += 1;
    this.bump(this.jobFailures, `${job}\0${kind}`);
  }

  displayResult(ok: boolean): boolean {
    const changed = this.displayUp !== ok;
    this.displayUp = ok;
    if (!ok) this.displayErrors += 1;
    return changed || !ok;
  }

  buttonResult(ok: boolean): void {
    this.buttonUp = ok;
  }

  render(): string {
    const p = 'graph_device_agent';
    const families: Family[] = [
      { name: `${p}_build_info`, type: 'gauge', help: 'The agent\'s version and Node\'s, always 1.', samples: [{ labels: { version: this.options.version, nodejs: process.version }, value: 1 }] },
      { name: `${p}_start_time_seconds`, type: 'gauge', help: 'When the agent started, as a Unix timestamp.', samples: [{ value: this.startedAt / 1000 }] },
      { name: `${p}_state`, type: 'gauge', help: 'The agent\'s state: 1 for the current one, 0 for the others.', samples: STATES.map((s) => ({ labels: { state: s }, value: s === this.state ? 1 : 0 })) },
      { name: `${p}_signed_in`, type: 'gauge', help: 'Whether a person is signed in (1) or not (0).', samples: [{ value: this.account !== undefined ? 1 : 0 }] },
    ];
    if (this.options.includeAccount) {
      families.push({ name: `${p}_account_info`, type: 'gauge', help: 'The signed-in account (metrics.includeAccount), always 1; absent when signed out.',
        samples: this.account !== undefined ? [{ labels: { account: this.account }, value: 1 }] : [] });
    }
    families.push(
      { name: `${p}_token_last_success_timestamp_seconds`, type: 'gauge', help: 'When Graph last got an access token (cached or refreshed), as a Unix timestamp; absent until then.',
        samples: this.tokenOkAt !== undefined ? [{ value: this.tokenOkAt / 1000 }] : [] },
      { name: `${p}_job_last_success_timestamp_seconds`, type: 'gauge', help: 'When each Graph job last answered as hoped, as a Unix timestamp; absent until then.',
        samples: [...this.jobOkAt].map(([job, at]) => ({ labels: { job }, value: at / 1000 })) },
      { name: `${p}_job_runs_total`, type: 'counter', help: 'Graph job runs by job and result (ok, failed), scheduled and manual.',
        samples: [...this.jobRuns].flatMap(([job, c]) => [{ labels: { job, result: 'ok' }, value: c.ok }, { labels: { job, result: 'failed' }, value: c.failed }]) },
      { name: `${p}_job_failures_total`, type: 'counter', help: 'Failed Graph job runs by job and kind (throttled, forbidden, network, server, needs-sign-in, ...).',
        samples: [...this.jobFailures].map(([key, value]) => {
          const [job, kind] = key.split('\0') as [string, string];
          return { labels: { job, kind }, value };
        }) },
      { name: `${p}_sign_in_problems_total`, type: 'counter', help: 'Times the agent stopped to wait for a person, by kind (declined, expired, blocked, signed-out, ...).',
        samples: [...this.signInProblems].map(([kind, value]) => ({ labels: { kind }, value })) },
      { name: `${p}_device_codes_issued_total`, type: 'counter', help: 'Device codes shown on the display.', samples: [{ value: this.codesIssued }] },
      { name: `${p}_device_code_renewals_total`, type: 'counter', help: 'Expired device codes replaced without a press (signIn.autoRenewCodes).', samples: [{ value: this.codeRenewals }] },
      { name: `${p}_display_up`, type: 'gauge', help: 'Whether the display took the last frame (1) or failed (0); absent before the first frame.',
        samples: this.displayUp !== undefined ? [{ value: this.displayUp ? 1 : 0 }] : [] },
      { name: `${p}_display_errors_total`, type: 'counter', help: 'Frames or display operations that failed.', samples: [{ value: this.displayErrors }] },
      { name: `${p}_button_up`, type: 'gauge', help: 'Whether the button is being watched (1) or could not be (0); absent before start.',
        samples: this.buttonUp !== undefined ? [{ value: this.buttonUp ? 1 : 0 }] : [] },
    );
    return families.filter((f) => f.samples.length > 0).map(renderFamily).join('');
  }

  private runsOf(job: string): { ok: number; failed: number } {
    let counts = this.jobRuns.get(job);
    if (!counts) this.jobRuns.set(job, (counts = { ok: 0, failed: 0 }));
    return counts;
  }

  private bump(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

function renderFamily(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`];
  for (const s of f.samples) {
    const labels = s.labels ? Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',') : '';
    lines.push(`${f.name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}
