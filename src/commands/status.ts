import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/errors.js';
import { silentLogger } from '../log.js';
import { decodeCache } from '../auth/cache/format.js';
import type { CacheStatus } from '../auth/cache/encrypted-file-cache.js';
import { describeKeySource, resolveKey, type ResolvedKey } from '../auth/key-source.js';
import { readLastGraph, type LastGraphFile } from '../graph/last-run.js';
import { createTokenCache } from '../app/identity-and-graph.js';
import { reportButton, type ButtonReport } from '../app/buttons.js';
import { readSignInRecord, type SignInRecord } from '../auth/signin-record.js';
import { commandContext, readAgentProcess, type AgentProcess, type CommandContext, type CommandIo } from './context.js';

/**
 * `graph-device-agent status [--json]`: who is signed in, what the cache knows about the tokens'
 * lifetimes, which key is in use, the state of the cache file, the agent and the last Graph
 * results. Reads only: it never moves, writes or locks anything, and it never prints a token,
 * refresh token or id token (it reads their dates, never their `secret`).
 */

export { LAST_GRAPH_FILE, recordGraphRun, summarizeGraphRun, type GraphRunSummary } from '../graph/last-run.js';

// ---- what the cache knows -----------------------------------------------------------------------

export interface TokenTimes {
  /** ISO 8601, or null when the cache does not say. */
  issuedAt: string | null;
  expiresAt: string | null;
  /** True when `issuedAt` is inferred (a refresh token is saved with the access token of the same reply). */
  issuedAtInferred?: boolean;
  expired?: boolean;
}

export interface AccountSummary {
  username: string;
  name: string | null;
  tenantId: string | null;
  homeAccountId: string;
  /** Where it signs in (the authority host). */
  environment: string | null;
  accessTokens: Array<TokenTimes & { scopes: string }>;
  /** Null when the cache holds none (the next token request needs a new sign-in). */
  refreshToken: TokenTimes | null;
}

type Entity = Record<string, unknown>;

/**
 * The accounts of a decrypted msal cache and the dates of their tokens. Reads only the named
 * date and name fields of each entry, never `secret`, so nothing secret can reach the output.
 */
export function summarizeAccounts(cacheJson: string, now = Date.now()): AccountSummary[] {
  const cache = JSON.parse(cacheJson) as Record<string, Record<string, Entity> | undefined>;
  const entries = (section: string): Entity[] => Object.values(cache[section] ?? {}).filter((e): e is Entity => typeof e === 'object' && e !== null);
  const str = (e: Entity, field: string): string | null => (typeof e[field] === 'string' && e[field] !== '' ? e[field] : null);
  const seconds = (e: Entity, field: string): number | null => {
    const v = e[field];
    const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : NaN;
    return Number.isFinite(n) && n > 0 ? n * 1000 : null;
  };
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

  return entries('Account').map((account) => {
    const home = str(account, 'home_account_id') ?? '';
    const env = str(account, 'environment');
    const mine = (e: Entity): boolean => e.home_account_id === home && (env === null || e.environment === env);
    const accessTokens = entries('AccessToken').filter(mine).map((at) => {
      const expires = seconds(at, 'expires_on');
      return {
        scopes: str(at, 'target') ?? '',
        issuedAt: iso(seconds(at, 'cached_at')),
        expiresAt: iso(expires),
        ...(expires !== null ? { expired: expires <= now } : {}),
      };
    }).sort((a, b) => (b.issuedAt ?? '').localeCompare(a.issuedAt ?? ''));
    const rt = entries('RefreshToken').find(mine);
    let refreshToken: TokenTimes | null = null;
    if (rt) {
      const issued = seconds(rt, 'cached_at') ?? seconds(rt, 'last_modification_time');
      const expires = seconds(rt, 'expires_on') ?? seconds(rt, 'refresh_on');
      const newestAccessToken = accessTokens[0]?.issuedAt ?? null;
      refreshToken = {
        issuedAt: iso(issued) ?? newestAccessToken,
        expiresAt: iso(expires),
        ...(issued === null && newestAccessToken !== null ? { issuedAtInferred: true } : {}),
        ...(expires !== null ? { expired: expires <= now } : {}),
      };
    }
    return {
      username: str(account, 'username') ?? '',
      name: str(account, 'name'),
      tenantId: str(account, 'realm'),
      homeAccountId: home,
      environment: env,
      accessTokens,
      refreshToken,
    };
  });
}

// ---- the report -----------------------------------------------------------------------------------

export interface StatusReport {
  config: string | null;
  key: { source: ResolvedKey['source']; where: string } | { source: null; problem: string };
  cache: Omit<CacheStatus, 'modifiedAt' | 'mode'> & { modifiedAt: string | null; mode: string | null };
  /** Null when the cache could not be read (see cache.readable). */
  accounts: AccountSummary[] | null;
  agent: AgentProcess | null;
  lastGraph: LastGraphFile | null;
  /** Which button driver the agent uses on this machine ("auto": what it finds now) and why. */
  button: ButtonReport;
  /** When the account last signed in with a code and its tokens were last refreshed (signin.json). */
  signIn: SignInRecord | null;
}

export async function buildStatusReport(ctx: Pick<CommandContext, 'config' | 'env'>, now = Date.now()): Promise<StatusReport> {
  const { config, env } = ctx;
  let key: ResolvedKey | undefined;
  let keyProblem: string | undefined;
  try {
    key = await resolveKey({ config, env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    keyProblem = err.problems.join('; ');
  }

  let cache: CacheStatus;
  let accounts: AccountSummary[] | null = null;
  const silent = silentLogger();
  if (key) {
    const plugin = createTokenCache(config, silent, key.key);
    cache = await plugin.status();
    if (cache.readable) {
      try {
        accounts = summarizeAccounts(decodeCache(await readFile(config.cache.path), key.key, config.auth.clientId, config.cache.path), now);
      } catch {
        accounts = null; // replaced between the two reads; the file state above says enough
      }
    } else if (!cache.exists) {
      accounts = [];
    }
  } else {
    // Without the key the file can still be described, not opened.
    const plugin = createTokenCache(config, silent, Buffer.alloc(32));
    const described = await plugin.status();
    cache = { ...described, readable: false };
    if (described.exists && described.unreadableReason !== 'io-error') {
      cache.unreadableReason = undefined;
      cache.unreadableMessage = 'not checked: no key';
    }
    if (!described.exists) accounts = [];
  }
  key?.key.fill(0);

  return {
    config: config.configFile ?? null,
    key: key ? { source: key.source, where: key.where } : { source: null, problem: keyProblem ?? 'unknown' },
    cache: {
      ...cache,
      modifiedAt: cache.modifiedAt ? cache.modifiedAt.toISOString() : null,
      mode: cache.mode === null ? null : cache.mode.toString(8).padStart(4, '0'),
    },
    accounts,
    agent: await readAgentProcess(config.stateDirectory, now),
    lastGraph: await readLastGraph(config.stateDirectory),
    button: await reportButton(config.button),
    signIn: await readSignInRecord(config.stateDirectory),
  };
}

export function formatStatusReport(r: StatusReport, now = Date.now()): string {
  const lines: string[] = [];
  const when = (iso: string | null): string => (iso === null ? 'unknown' : `${iso} (${relative(Date.parse(iso), now)})`);

  if (r.accounts === null) {
    lines.push('Account:      unknown (the token cache cannot be read, see below)');
  } else if (r.accounts.length === 0) {
    lines.push('Account:      none signed in');
  }
  for (const [i, a] of (r.accounts ?? []).entries()) {
    lines.push(`${i === 0 ? 'Account:     ' : '             '} ${a.username}${a.name ? ` (${a.name})` : ''}${a.tenantId ? `, tenant ${a.tenantId}` : ''}${i === 0 && (r.accounts?.length ?? 0) > 1 ? '  <- used by the agent' : ''}`);
    for (const at of a.accessTokens) {
      lines.push(`  access token:  issued ${when(at.issuedAt)}, expires ${when(at.expiresAt)}${at.scopes ? ` [${at.scopes}]` : ''}`);
    }
    if (a.accessTokens.length === 0) lines.push('  access token:  none cached (the next Graph call gets one with the refresh token)');
    if (a.refreshToken) {
      const issued = a.refreshToken.issuedAt === null ? 'unknown'
        : `${a.refreshToken.issuedAt} (${relative(Date.parse(a.refreshToken.issuedAt), now)}${a.refreshToken.issuedAtInferred ? ', with the access token' : ''})`;
      const expires = a.refreshToken.expiresAt === null
        ? 'unknown (the server did not say; Entra\'s refresh tokens last 90 days from their last use)'
        : when(a.refreshToken.expiresAt);
      lines.push(`  refresh token: issued ${issued}, expires ${expires}`);
    } else {
      lines.push('  refresh token: none (a new sign-in is needed)');
    }
  }

  const s = r.signIn;
  if (s) {
    lines.push(`Signed in:    ${s.signedInAt === null ? 'unknown' : when(s.signedInAt)} (${s.account})`);
    lines.push(`Refreshed:    ${s.lastRefreshAt === null ? 'unknown' : when(s.lastRefreshAt)} (refresh tokens die after 90 days without one)`);
  } else {
    lines.push('Signed in:    no record yet (written at the next sign-in or refresh)');
  }

  lines.push(r.key.source === null ? `Key:          none usable: ${r.key.problem}` : `Key:          ${describeKeySource(r.key)}`);

  const c = r.cache;
  if (!c.exists) {
    lines.push(`Cache file:   ${c.path} (does not exist yet)`);
  } else {
    const state = c.readable ? 'readable' : `NOT readable: ${c.unreadableMessage ?? c.unreadableReason ?? 'unknown'}`;
    lines.push(`Cache file:   ${c.path}, ${c.bytes} bytes, mode ${c.mode ?? '?'}, modified ${when(c.modifiedAt)}, ${state}`);
  }
  if (c.lock !== 'none') lines.push(`  lock:        ${c.path}.lock ${c.lock === 'held' ? 'held by a running process' : 'left by a process that stopped (broken at the next write)'}`);
  for (const aside of c.movedAside) lines.push(`  moved aside: ${aside}`);

  const a = r.agent;
  if (!a) {
    lines.push('Agent:        no status file (not started yet, or an older version)');
  } else {
    const age = a.ageSec !== undefined ? `, updated ${a.ageSec} s ago` : '';
    lines.push(`Agent:        ${a.running ? `running (pid ${a.pid})` : 'not running'}, last state ${a.state ?? 'unknown'}${a.detail ? `: ${a.detail}` : ''}${age}`);
  }

  const b = r.button;
  lines.push(`Button:       ${b.driver === 'none' ? 'none (signals only)' : b.driver}${b.device ? ` ${b.device}` : ''}: ${b.why}`);

  const g = r.lastGraph;
  if (!g) {
    lines.push('Last Graph:   none recorded');
  } else {
    const jobs = Object.values(g.jobs).sort((x, y) => x.job.localeCompare(y.job));
    for (const [i, j] of jobs.entries()) {
      const what = j.ok ? `ok${j.status !== undefined ? ` ${j.status}` : ''}${j.line ? `: ${j.line}` : ''}` : `failed (${j.kind ?? 'error'}${j.status !== undefined ? ` ${j.status}` : ''}): ${j.message ?? ''}`;
      lines.push(`${i === 0 ? 'Last Graph:  ' : '             '} ${j.job} ${j.path} at ${when(j.at)}: ${what}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** "in 59 min", "3 h ago". */
function relative(at: number, now: number): string {
  if (Number.isNaN(at)) return '?';
  const diff = at - now;
  const abs = Math.abs(diff);
  if (abs < 1000) return 'just now';
  const amount = abs < 90_000 ? `${Math.round(abs / 1000)} s`
    : abs < 90 * 60_000 ? `${Math.round(abs / 60_000)} min`
    : abs < 48 * 3600_000 ? `${Math.round(abs / 3600_000)} h`
    : `${Math.round(abs / 86_400_000)} days`;
  return diff >= 0 ? `in ${amount}` : `${amount} ago`;
}

export async function statusCommand(options: CommandIo & { json?: boolean }): Promise<number> {
  const ctx = commandContext(options);
  const now = Date.now();
  const report = await buildStatusReport(ctx, now);
  ctx.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatusReport(report, now));
  return 0;
}
