import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import nodeCron from 'node-cron';

/**
 * A per-device offset for cron jobs, so a hundred devices with "*\/5 * * * *" do not call Graph
 * in the same second from one app in one tenant (a self-made 429 storm).
 *
 * How it is applied: the cron expression is kept as written and every tick is delayed by the
 * splay (a timer per tick, cancelled on pause and stop; see GraphJobs). Rewriting the expression's
 * seconds or minutes field instead would only work for simple expressions ("*\/5" can be shifted
 * to "2-59/5", "0 9,17" cannot be shifted by 137 s without changing hours) and would round the
 * offset to whole seconds or minutes; a delay works for every expression and keeps it exact.
 *
 * The splay only moves a run's start: a throttled request inside the run still waits for
 * Graph's Retry-After (graph/client.ts), and manual runs (sign-in, a press) are never delayed.
 */

/** "off", "auto" (the period, at most {@link AUTO_SPLAY_MAX_SEC}), or a maximum in seconds. */
export type SplaySetting = 'off' | 'auto' | number;

/**
 * "auto"'s ceiling: a "*\/15" job spreads over its whole 15 minutes; an hourly or daily job still
 * runs within 15 minutes of the time it names, which is what a person who wrote "0 9 * * *" means.
 */
export const AUTO_SPLAY_MAX_SEC = 900;

/**
 * The device's fraction in [0, 1), from the machine id. Hashed with this program's name, so the
 * machine id (which systemd asks to keep confidential) cannot be recovered from the offset, and
 * another program deriving its own offset from the same id does not land on the same second.
 */
export function splayFraction(machineId: string): number {
  const digest = createHash('sha256').update('graph-device-agent/splay\0').update(machineId.trim()).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The machine id from /etc/machine-id (systemd; also on Pi OS and in balena containers that
 * bind-mount it), else /var/lib/dbus/machine-id, else the host name: stable across restarts.
 */
export function readMachineId(
  files: readonly string[] = ['/etc/machine-id', '/var/lib/dbus/machine-id'],
  fallback: () => string = hostname,
): { id: string; source: string } {
  for (const file of files) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      // "uninitialized" is what an image built for first boot holds until systemd writes one.
      if (id !== '' && id !== 'uninitialized') return { id, source: file };
    } catch {
      // Not there (a container, another init): try the next.
    }
  }
  return { id: fallback(), source: 'hostname' };
}

/**
 * The shortest time between two consecutive runs of `expression`, in ms, from its second, minute
 * and hour fields within one day (and the gap across midnight). Day and month fields can only
 * make the real gaps longer, so the splay bounded by this value never reaches the next run.
 */
export function cronPeriodMs(expression: string): number {
  const fields = nodeCron.parse(expression);
  const seconds = [...new Set(fields.second)].sort((a, b) => a - b);
  const minutes = [...new Set(fields.minute)].sort((a, b) => a - b);
  const hours = [...new Set(fields.hour)].sort((a, b) => a - b);
  const times: number[] = [];
  for (const h of hours) for (const m of minutes) for (const s of seconds) times.push(h * 3600 + m * 60 + s);
  if (times.length === 0) return 86_400_000;
  let shortest = times[0]! + 86_400 - times[times.length - 1]!;
  for (let i = 1; i < times.length; i++) shortest = Math.min(shortest, times[i]! - times[i - 1]!);
  return shortest * 1000;
}

/**
 * This device's delay for a job, in ms: the fraction of the bound, where the bound is the job's
 * period, at most the setting's maximum. Always below the period, so a delayed run never passes
 * the next one; 0 when off.
 */
export function splayMs(fraction: number, periodMs: number, setting: SplaySetting): number {
  if (setting === 'off') return 0;
  const maxMs = (setting === 'auto' ? AUTO_SPLAY_MAX_SEC : setting) * 1000;
  const boundMs = Math.min(maxMs, periodMs);
  if (!(boundMs > 0)) return 0;
  return Math.floor(fraction * boundMs);
}
