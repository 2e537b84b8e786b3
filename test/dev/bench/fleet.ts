/**
 * A fleet's schedules as the tenant sees them: every device's Graph calls over a day, with and
 * without the splay (src/graph/splay.ts), as requests per second. Pure computation over the same
 * functions the agent uses: no process, no network, a fraction of a second.
 */
import { createHash } from 'node:crypto';
import nodeCron from 'node-cron';
import { cronPeriodMs, splayFraction, splayMs, type SplaySetting } from '../../../src/graph/splay.js';

export interface FleetSimulation {
  devices: number;
  schedules: readonly string[];
  splay: SplaySetting;
  /** Graph requests a day, the whole fleet. */
  requestsPerDay: number;
  /** The busiest second of the day. */
  peakPerSecond: number;
  /** The busiest 10 seconds (Graph's global limit is counted per 10 s). */
  peakPer10s: number;
  /** Requests a second, averaged over the day. */
  meanPerSecond: number;
}

const DAY_SEC = 86_400;

/** A machine id as systemd writes one (32 hex digits), the same for `i` on every run. */
export function fleetMachineId(i: number): string {
  return createHash('sha256').update(`device-${i}`).digest('hex').slice(0, 32);
}

/** Seconds of the day at which `expression` fires (its day and month fields taken as "*"). */
function slotsOfDay(expression: string): number[] {
  const f = nodeCron.parse(expression);
  const out: number[] = [];
  for (const h of new Set(f.hour)) for (const m of new Set(f.minute)) for (const s of new Set(f.second)) out.push(h * 3600 + m * 60 + s);
  return out;
}

/**
 * One request per job run (no retries: a healthy tenant), every device running every schedule.
 * A run delayed past midnight counts at the start of the day: the day repeats.
 */
export function simulateFleet(devices: number, schedules: readonly string[], splay: SplaySetting): FleetSimulation {
  const perSecond = new Uint32Array(DAY_SEC);
  const jobs = schedules.map((schedule) => ({ slots: slotsOfDay(schedule), periodMs: cronPeriodMs(schedule) }));
  let requests = 0;
  for (let d = 0; d < devices; d++) {
    const fraction = splay === 'off' ? 0 : splayFraction(fleetMachineId(d));
    for (const job of jobs) {
      const delaySec = splayMs(fraction, job.periodMs, splay) / 1000;
      for (const slot of job.slots) {
        perSecond[Math.floor(slot + delaySec) % DAY_SEC]! += 1;
        requests += 1;
      }
    }
  }
  let peakPerSecond = 0;
  let window = 0;
  let peakPer10s = 0;
  for (let s = 0; s < DAY_SEC + 10; s++) {
    const here = perSecond[s % DAY_SEC]!;
    if (s < DAY_SEC) peakPerSecond = Math.max(peakPerSecond, here);
    window += here - (s >= 10 ? perSecond[(s - 10) % DAY_SEC]! : 0);
    peakPer10s = Math.max(peakPer10s, window);
  }
  return { devices, schedules, splay, requestsPerDay: requests, peakPerSecond, peakPer10s, meanPerSecond: requests / DAY_SEC };
}

/** The bench's scenarios: the default jobs (me and manager, every 15 minutes), and a calendar every 5. */
export const FLEET_SCENARIOS: ReadonlyArray<{ name: string; schedules: string[] }> = [
  { name: 'default jobs (2 × */15)', schedules: ['*/15 * * * *', '*/15 * * * *'] },
  { name: 'default + next meeting (2 × */15, 1 × */5)', schedules: ['*/15 * * * *', '*/15 * * * *', '*/5 * * * *'] },
];

/** The rows: 1,000 devices, each scenario off and auto. */
export function simulateFleets(devices = 1000): FleetSimulation[] {
  return FLEET_SCENARIOS.flatMap(({ schedules }) => (['off', 'auto'] as const).map((splay) => simulateFleet(devices, schedules, splay)));
}

// `tsx test/dev/bench/fleet.ts`: just the simulation, in a second.
if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  for (const { name, schedules } of FLEET_SCENARIOS) {
    for (const splay of ['off', 'auto'] as const) {
      const r = simulateFleet(1000, schedules, splay);
      process.stdout.write(`${name}, splay ${splay}: ${r.requestsPerDay} requests/day, mean ${r.meanPerSecond.toFixed(2)}/s, peak ${r.peakPerSecond}/s, peak ${r.peakPer10s}/10 s\n`);
    }
  }
  process.stdout.write(`(${(performance.now() - started).toFixed(0)} ms)\n`);
}
