/**
 * Time in a job's Graph path. Graph has no "now" in its queries: the next calendar event needs a
 * window with real dates (`/me/calendarView?startDateTime=...&endDateTime=...`), and a config file
 * cannot hold them. So a path may say `{now}`, `{now+7d}`, `{now-30m}`: each run replaces them
 * with that moment in UTC, ISO 8601 to the second ("2026-11-28T10:00:00Z"), which Graph accepts
 * wherever it takes a date-time.
 *
 * Only these placeholders exist; any other `{...}` in a path is a config error, so a template
 * meant for the screen line does not silently end up in a URL.
 */

const PLACEHOLDER = /\{([^{}]*)\}/g;
const NOW = /^now(?:([+-])(\d{1,4})([mhd]))?$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Returns an error message when `path` has a `{...}` that is not a time placeholder. */
export function validatePathTimes(path: string): string | undefined {
  for (const match of path.matchAll(PLACEHOLDER)) {
    if (!NOW.test(match[1] ?? '')) {
      return `Graph path "${path}" has an unknown placeholder "${match[0]}": only {now}, {now+7d}, {now-2h}, {now+30m} (UTC) are replaced`;
    }
  }
  if (path.replace(PLACEHOLDER, '').match(/[{}]/)) return `Graph path "${path}" has an unmatched "{" or "}"`;
  return undefined;
}

/** `path` with every time placeholder replaced by that moment relative to `nowMs`. */
export function expandPathTimes(path: string, nowMs: number): string {
  return path.replace(PLACEHOLDER, (whole, inner: string) => {
    const m = NOW.exec(inner);
    if (!m) return whole;
    const [, sign, amount, unit] = m;
    const offset = sign && amount && unit ? Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS] * (sign === '-' ? -1 : 1) : 0;
    return new Date(nowMs + offset).toISOString().replace(/\.\d{3}Z$/, 'Z');
  });
}
