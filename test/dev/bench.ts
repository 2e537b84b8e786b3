/**
 * npm run bench: the agent's numbers, each beside a baseline measured in the same run, as one
 * table on stdout and as JSON in .bench/bench.json (to compare runs). Takes a few minutes: the
 * CPU figures are 60-second windows.
 *
 * What runs where:
 * - start-up, memory and idle CPU: the agent as built JavaScript under plain `node` (bench/build.ts),
 *   in child processes (bench/daemon.ts: `run` with the SSD1306 emulator as its panel), against
 *   the identity emulator over HTTPS; read from /proc.
 * - bus bytes, frame stalls, silent tokens, approval latency: in this process, through the real
 *   modules (bench/display.ts, bench/tokens.ts, bench/approval.ts).
 * Each figure is the median of several runs. The goals are issue 8's.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startIdentityEmulator, type IdentityEmulator } from '../support/identity-emulator/index.js';
import { buildForBench, type Build } from './bench/build.js';
import { serviceNodeFlags } from '../support/service-flags.js';
import { measureBusBytes, measureFrameStalls } from './bench/display.js';
import { measureSilentTokens } from './bench/tokens.js';
import { measureApproval } from './bench/approval.js';
import { cpuMs, median, rssMiB, sleep, start, storageWriteBytes, type Watched } from './bench/processes.js';
import { measurePngFrames } from './bench/png.js';
import { FakeInputTree } from '../support/fake-input.js';
import { startReceiver } from '../notify/receiver.js';
import { simulateFleets } from './bench/fleet.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const FIRST_FRAME_RUNS = 7;
const CHILDREN_PER_STATE = 3;
const CPU_WINDOW_MS = 60_000;
const STALL_RUNS = 7;
const TOKEN_CALLS = 300;
const APPROVAL_RUNS = 5;
/** Entra's polling interval. */
const APPROVAL_INTERVAL_SEC = 5;
/** A 100 kHz I2C bus (the Pi's default) moves about 11,111 bytes a second (9 clocks a byte). */
const BUS_100KHZ = 11_111;

const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`);

interface Row {
  figure: string;
  value: string;
  baseline: string;
  goal: string;
  met?: boolean;
}

function machine(): Record<string, string | number> {
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  let kernel = 'unknown';
  try {
    kernel = execFileSync('uname', ['-srm'], { encoding: 'utf8' }).trim();
  } catch {
    // not Linux
  }
  return { cpu: cpuModel, cores: cpus().length, node: process.version, kernel, loadavg1m: Number(loadavg()[0]!.toFixed(2)) };
}

/** A config file for one child: the emulator, its own state directory, the default Graph jobs (or `jobs` of its own), and any other sections. */
async function childConfig(root: string, name: string, idp: IdentityEmulator, graph: Record<string, unknown> = {}, sections: Record<string, unknown> = {}): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({
    auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666', authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
    graph: { baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host], ...graph },
    network: { caFile: idp.caFile },
    display: { driver: 'ssd1306' }, // on an emulated bus: see bench/daemon.ts
    stateDirectory: path.join(dir, 'state'),
    ...sections,
  }));
  return file;
}

/**
 * The agent, its baselines and this process run with the service's node flags (ExecStart= of the
 * systemd unit; the Dockerfile's CMD carries the same): the figures are the deployed agent's.
 */
const NODE_FLAGS = serviceNodeFlags();

function daemon(build: Build, config: string, busBytesPerSecond = 0, nodeFlags: string[] = NODE_FLAGS, env: NodeJS.ProcessEnv = {}): Watched {
  return start(process.execPath, [...nodeFlags, build.js('test/dev/bench/daemon.ts'), config], { BENCH_BUS_BYTES_PER_SECOND: String(busBytesPerSecond), ...env });
}

/** The default jobs (the user and their manager), every minute instead of every 15. */
const EVERY_MINUTE_JOBS = [
  { name: 'me', schedule: '* * * * *', path: '/me', line: '{displayName}' },
  { name: 'manager', schedule: '* * * * *', path: '/me/manager', line: 'Manager: {displayName}' },
];

/** A tmpfs, as the unit's RuntimeDirectory= (/run/graph-device-agent) is: writes there are not storage writes. */
const TMPFS = '/dev/shm';

async function measureFirstFrame(build: Build, idp: IdentityEmulator, root: string): Promise<{ agentMs: number[]; nodeMs: number[] }> {
  const config = await childConfig(root, 'first-frame', idp);
  // A first run makes the key file, as the device's first boot does; later boots find it.
  const warm = daemon(build, config);
  await warm.marker('first-frame');
  await warm.stop();
  const agentMs: number[] = [];
  const nodeMs: number[] = [];
  for (let run = 0; run < FIRST_FRAME_RUNS; run++) {
    const bare = performance.now();
    const node = start(process.execPath, [...NODE_FLAGS, '-e', '0']);
    await node.exited;
    nodeMs.push(performance.now() - bare);

    const started = performance.now();
    const child = daemon(build, config);
    agentMs.push((await child.marker('first-frame')) - started);
    await child.stop();
  }
  return { agentMs, nodeMs };
}

/**
 * What the first frame waits for: each package the agent loads before it, imported alone by a
 * fresh `node`, minus a bare `node` start (msal-node, loaded after the first frame, for scale).
 */
const STARTUP_PACKAGES = ['zod', 'pino', 'node-cron', 'qrcode', 'pngjs', 'proper-lockfile', 'oled-font-pack', '@azure/msal-node'];

async function measureImportCosts(): Promise<Record<string, number>> {
  const run = async (code: string): Promise<number> => {
    const started = performance.now();
    const child = spawn(process.execPath, [...NODE_FLAGS, '--input-type=module', '-e', code], { cwd: REPO, stdio: 'ignore' });
    const [exit] = (await once(child, 'exit')) as [number | null];
    if (exit !== 0) throw new Error(`node -e ${code} exited ${exit}`);
    return performance.now() - started;
  };
  const times = async (code: string): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) samples.push(await run(code));
    return median(samples);
  };
  const bare = await times('');
  const out: Record<string, number> = {};
  for (const name of STARTUP_PACKAGES) out[name] = (await times(`await import(${JSON.stringify(name)})`)) - bare;
  return out;
}

/** Waits so that a 60 s window does not include a quarter hour, when the default Graph jobs run. */
async function avoidScheduledJobs(): Promise<void> {
  const quarter = 15 * 60_000;
  const untilNext = quarter - (Date.now() % quarter);
  if (untilNext < CPU_WINDOW_MS + 5_000) {
    log(`waiting ${Math.round(untilNext / 1000) + 10} s for the quarter-hour Graph jobs to pass`);
    await sleep(untilNext + 10_000);
  }
}

interface IdleFigures {
  /** 10 s after the first Graph jobs, before V8 has given back what sign-in used. */
  afterSignInRssMiB: number[];
  /** At the end of the 60 s idle window: what the agent holds while it waits. */
  signedInRssMiB: number[];
  /** The same, with `node` and no flags. */
  plainRssMiB: number[];
  plainCpuPct: number[];
  codeRssMiB: number[];
  bareRssMiB: number[];
  plainBareRssMiB: number[];
  signedInCpuPct: number[];
  codeCpuPct: number[];
  bareCpuPct: number[];
  /** The evdev button (issue 15) reading a gpio-keys device: a FIFO of a fake input tree. */
  evdevCpuPct: number[];
  evdevRssMiB: number[];
  /** Three notification targets (webhook, ntfy, Home Assistant) on a local receiver (issue 16). */
  notifyingRssMiB: number[];
  notifyingCpuPct: number[];
  notificationsReceived: number;
  /** Bytes the signed-in children wrote to storage during the window (runtime directory on a tmpfs), and its length. */
  signedInStorageBytes: number[];
  /** The same for children running both jobs every minute (each run: Graph, status, last-graph.json). */
  busyStorageBytes: number[];
  busyRuns: number;
  windowMs: number;
  /** The token cache's size: one write of it is the floor per token refresh. */
  cacheBytes: number;
}

async function measureIdle(build: Build, idp: IdentityEmulator, root: string): Promise<IdleFigures> {
  const runtimeRoot = await mkdtemp(path.join(TMPFS, 'gda-bench-run-'));
  const receiver = await startReceiver();
  const fifoWriters: Array<{ close(): void }> = [];
  const evdev: Watched[] = [];
  const notifying: Watched[] = [];
  const signedIn: Watched[] = [];
  const busy: Watched[] = [];
  const plain: Watched[] = [];
  const showing: Watched[] = [];
  const bare: Watched[] = [];
  const plainBare: Watched[] = [];
  try {
    for (let i = 0; i < CHILDREN_PER_STATE; i++) {
      // As under systemd: status.json and last-graph.json in a RuntimeDirectory= on a tmpfs.
      const runtime = path.join(runtimeRoot, `signed-in-${i}`);
      await mkdir(runtime, { recursive: true });
      signedIn.push(daemon(build, await childConfig(root, `signed-in-${i}`, idp), BUS_100KHZ, NODE_FLAGS, { RUNTIME_DIRECTORY: runtime }));
      const busyRuntime = path.join(runtimeRoot, `busy-${i}`);
      await mkdir(busyRuntime, { recursive: true });
      busy.push(daemon(build, await childConfig(root, `busy-${i}`, idp, { jobs: EVERY_MINUTE_JOBS, splay: 'off' }), BUS_100KHZ, NODE_FLAGS, { RUNTIME_DIRECTORY: busyRuntime }));
      const input = await new FakeInputTree(path.join(root, `input-${i}`)).init();
      const device = await input.add({ event: 'event0', name: 'graph-device-agent', driver: 'gpio-keys', keys: [256] });
      fifoWriters.push(device.openFifoWriter()); // the device stays there, silent, as an idle button is
      evdev.push(daemon(build, await childConfig(root, `evdev-${i}`, idp, {}, { button: { driver: 'none' } }), BUS_100KHZ, NODE_FLAGS, { BENCH_INPUT_ROOT: input.dir }));
      notifying.push(daemon(build, await childConfig(root, `notify-${i}`, idp, {}, {
        notify: { targets: [
          { type: 'webhook', url: receiver.url('/hook') },
          { type: 'ntfy', url: receiver.url('/ntfy/devices') },
          { type: 'homeassistant', url: receiver.url('/api/webhook/graph-device') },
        ] },
      }), BUS_100KHZ));
      plain.push(daemon(build, await childConfig(root, `plain-${i}`, idp), BUS_100KHZ, []));
      showing.push(daemon(build, await childConfig(root, `code-${i}`, idp), BUS_100KHZ));
      bare.push(start(process.execPath, [...NODE_FLAGS, '-e', 'setInterval(() => {}, 1 << 30)']));
      plainBare.push(start(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)']));
    }
    for (const child of [...signedIn, ...plain, ...evdev, ...notifying, ...busy]) {
      const issued = await child.line((l) => l.event === 'device_code.issued', 'a device code');
      idp.approve(String(issued.user_code));
    }
    for (const child of showing) await child.line((l) => l.event === 'device_code.issued', 'a device code');
    for (const child of evdev) await child.line((l) => l.event === 'button.started' && typeof l.device === 'string', 'the evdev button reading its device');
    for (const child of [...signedIn, ...plain, ...evdev, ...notifying]) {
      await child.line((l) => l.event === 'graph.job' && l.job === 'me', 'the first Graph job (me)');
      await child.line((l) => l.event === 'graph.job' && l.job === 'manager', 'the first Graph job (manager)');
    }
    await sleep(10_000); // settle: what is left of start-up is done
    const rss = (list: Watched[]): number[] => list.map((c) => rssMiB(c.pid));
    const afterSignInRssMiB = rss(signedIn);
    await avoidScheduledJobs();
    log(`measuring CPU over ${CPU_WINDOW_MS / 1000} s`);
    const groups = [signedIn, plain, showing, bare, evdev, notifying];
    const before = groups.map((g) => g.map((c) => cpuMs(c.pid)));
    const writtenBefore = signedIn.map((c) => storageWriteBytes(c.pid));
    const busyBefore = busy.map((c) => storageWriteBytes(c.pid));
    const busyRunsBefore = busy.map((c) => c.lines.filter((l) => l.event === 'graph.job').length);
    const t0 = performance.now();
    await sleep(CPU_WINDOW_MS);
    const elapsed = performance.now() - t0;
    const [a, b, c, d, e, f] = groups.map((g, i) => g.map((child, j) => ((cpuMs(child.pid) - before[i]![j]!) / elapsed) * 100));
    const signedInStorageBytes = signedIn.map((child, i) => storageWriteBytes(child.pid) - writtenBefore[i]!);
    const busyStorageBytes = busy.map((child, i) => storageWriteBytes(child.pid) - busyBefore[i]!);
    const busyRuns = busy.reduce((n, c, i) => n + c.lines.filter((l) => l.event === 'graph.job').length - busyRunsBefore[i]!, 0);
    // Memory at the end of the idle minute: by then V8 has shrunk its young generation back
    // (right after sign-in it still holds what the sign-in allocated; see afterSignInRssMiB).
    const figures: IdleFigures = {
      afterSignInRssMiB,
      signedInRssMiB: rss(signedIn), plainRssMiB: rss(plain), codeRssMiB: rss(showing), bareRssMiB: rss(bare), plainBareRssMiB: rss(plainBare),
      signedInCpuPct: a!, plainCpuPct: b!, codeCpuPct: c!, bareCpuPct: d!,
      evdevCpuPct: e!, evdevRssMiB: rss(evdev), notifyingCpuPct: f!, notifyingRssMiB: rss(notifying),
      notificationsReceived: receiver.received.length,
      signedInStorageBytes, busyStorageBytes, busyRuns, windowMs: elapsed,
      cacheBytes: (await stat(path.join(root, 'signed-in-0', 'state', 'token-cache.bin'))).size,
    };
    if (evdev.some((child) => child.lines.some((l) => l.event === 'button.evdev_lost' || l.event === 'button.unavailable'))) {
      throw new Error('an evdev child lost its device during the window');
    }
    for (const child of showing) {
      if (!child.lines.some((l) => l.event === 'device_code.issued') || child.lines.some((l) => l.event === 'signin.succeeded')) {
        throw new Error('a "code shown" child left that state during the window');
      }
    }
    return figures;
  } finally {
    await Promise.all([...signedIn, ...plain, ...showing, ...bare, ...plainBare, ...evdev, ...notifying, ...busy].map((c) => c.stop()));
    for (const w of fifoWriters) w.close();
    await receiver.close();
    await rm(runtimeRoot, { recursive: true, force: true });
  }
}

/** How the agent's cost grows with its work: 1, 10 and 50 jobs. */
const JOB_COUNTS = [1, 10, 50] as const;

interface JobScaling {
  jobs: number;
  rssMiB: number[];
  cpuPct: number[];
}

/**
 * Signed-in children with N jobs each (every 15 minutes, no splay: their runs stay out of the
 * window, see avoidScheduledJobs), memory after a settle, CPU over one 60 s window shared by all.
 */
async function measureJobScaling(build: Build, idp: IdentityEmulator, root: string): Promise<JobScaling[]> {
  const children: Array<{ jobs: number; child: Watched }> = [];
  try {
    for (const jobs of JOB_COUNTS) {
      const list = Array.from({ length: jobs }, (_, i) => ({ name: `job-${i + 1}`, schedule: '*/15 * * * *', path: '/me', line: '{jobTitle}' }));
      for (let i = 0; i < CHILDREN_PER_STATE; i++) {
        const config = await childConfig(root, `jobs-${jobs}-${i}`, idp, { jobs: list, splay: 'off' });
        children.push({ jobs, child: daemon(build, config, BUS_100KHZ) });
      }
    }
    for (const { child } of children) {
      const issued = await child.line((l) => l.event === 'device_code.issued', 'a device code');
      idp.approve(String(issued.user_code));
    }
    for (const { jobs, child } of children) await child.line((l) => l.event === 'graph.job' && l.job === `job-${jobs}`, `the last of ${jobs} jobs`);
    await sleep(10_000);
    await avoidScheduledJobs();
    log(`measuring CPU over ${CPU_WINDOW_MS / 1000} s with ${JOB_COUNTS.join(', ')} jobs`);
    const before = children.map(({ child }) => cpuMs(child.pid));
    const t0 = performance.now();
    await sleep(CPU_WINDOW_MS);
    const elapsed = performance.now() - t0;
    const cpu = children.map(({ child }, i) => ((cpuMs(child.pid) - before[i]!) / elapsed) * 100);
    const rss = children.map(({ child }) => rssMiB(child.pid));
    return JOB_COUNTS.map((jobs) => {
      const mine = children.map((c, i) => (c.jobs === jobs ? i : -1)).filter((i) => i >= 0);
      return { jobs, rssMiB: mine.map((i) => rss[i]!), cpuPct: mine.map((i) => cpu[i]!) };
    });
  } finally {
    await Promise.all(children.map(({ child }) => child.stop()));
  }
}

const ms = (v: number, digits = 0): string => `${v.toFixed(digits)} ms`;
const pct = (v: number): string => `${v.toFixed(3)} %`;
const mib = (v: number): string => `${v.toFixed(1)} MiB`;

async function main(): Promise<void> {
  const host = machine();
  log(`on ${host.cpu} (${host.cores} cores), node ${host.node} ${NODE_FLAGS.join(' ')}, load ${host.loadavg1m}`);
  const root = await mkdtemp(path.join(tmpdir(), 'gda-bench-'));
  log('building the agent as plain JavaScript');
  const build = await buildForBench(REPO, ['test/dev/bench/daemon.ts', 'test/support/ssd1306-emulator.ts']);
  const idp = await startIdentityEmulator({ intervalSec: APPROVAL_INTERVAL_SEC, deviceCodeLifetimeSec: 900 });
  try {
    log('start-up to the first frame');
    const first = await measureFirstFrame(build, idp, root);
    if (process.env.BENCH_ONLY === 'first-frame') {
      // A quick look while working on start-up: npm run bench with BENCH_ONLY=first-frame.
      const a = median(first.agentMs);
      const n = median(first.nodeMs);
      process.stdout.write(`first frame ${ms(a)}, node -e 0 ${ms(n)} (${(a / n).toFixed(2)}x)\n`);
      return;
    }
    log('import cost of the packages loaded before the first frame');
    const imports = await measureImportCosts();
    log('memory and idle CPU (children)');
    const idle = await measureIdle(build, idp, root);
    // Stalls first: the first run is then the process's first code screen (after the agent's warm-up).
    log('memory and idle CPU with 1, 10 and 50 jobs (children)');
    const scaling = await measureJobScaling(build, idp, root);
    log('a simulated fleet: 1,000 devices\' schedules, with and without the splay');
    const fleet = simulateFleets(1000);
    log('PNG frames: encode time on the event loop');
    const png = measurePngFrames(60, 5);
    log('event-loop stalls while drawing');
    const stalls = await measureFrameStalls(STALL_RUNS);
    log('bytes on the bus');
    const bus = await measureBusBytes();
    log('silent token acquisition');
    const tokens = await measureSilentTokens(TOKEN_CALLS);
    log(`approval to the signed-in screen (${APPROVAL_RUNS} sign-ins, ${APPROVAL_INTERVAL_SEC} s polling)`);
    const approval = await measureApproval(APPROVAL_RUNS, APPROVAL_INTERVAL_SEC);

    const firstAgent = median(first.agentMs);
    const firstNode = median(first.nodeMs);
    const rssSignedIn = median(idle.signedInRssMiB);
    const tickShare = bus.tickMedian.sent / bus.tickMedian.fullFrame;
    const stallMedian = median(stalls);
    const approvalMedian = median(approval.latenciesMs);
    const pngMedian = median(png.frameMs);
    const perHour = (bytes: number[]): number => (median(bytes) / idle.windowMs) * 3_600_000;
    const kib = (b: number): string => (b < 1024 ? `${Math.round(b)} B` : `${(b / 1024).toFixed(1)} KiB`);
    const rows: Row[] = [
      { figure: 'Process start to first frame on the panel', value: ms(firstAgent), baseline: `\`node -e 0\`: ${ms(firstNode)} (${(firstAgent / firstNode).toFixed(2)}×)`, goal: '≤ 1.5× bare Node', met: firstAgent <= 1.5 * firstNode },
      { figure: 'Resident memory, signed in, idle (after a minute)', value: `${mib(rssSignedIn)} (${(rssSignedIn * 1.048576).toFixed(1)} MB)`, baseline: `bare Node: ${mib(median(idle.bareRssMiB))}`, goal: '< 64 MB', met: rssSignedIn * 1.048576 < 64 },
      { figure: 'Resident memory, 10 s after sign-in', value: mib(median(idle.afterSignInRssMiB)), baseline: `bare Node: ${mib(median(idle.bareRssMiB))}`, goal: '—' },
      { figure: 'Resident memory, signed in, idle, plain `node` (no flags)', value: mib(median(idle.plainRssMiB)), baseline: `bare plain Node: ${mib(median(idle.plainBareRssMiB))}; CPU ${pct(median(idle.plainCpuPct))}`, goal: '—' },
      { figure: 'Resident memory, code shown', value: mib(median(idle.codeRssMiB)), baseline: `bare Node: ${mib(median(idle.bareRssMiB))}`, goal: '—' },
      { figure: 'CPU over 60 s idle, signed in', value: pct(median(idle.signedInCpuPct)), baseline: `bare Node: ${pct(median(idle.bareCpuPct))}`, goal: '< 0.2 % of a core', met: median(idle.signedInCpuPct) < 0.2 },
      { figure: 'CPU over 60 s, code shown (1 s countdown, 5 s polls)', value: pct(median(idle.codeCpuPct)), baseline: `bare Node: ${pct(median(idle.bareCpuPct))}`, goal: '—' },
      { figure: 'I2C bytes: first device-code frame', value: `${bus.firstCode.sent} B`, baseline: `full frame ${bus.firstCode.fullFrame} B; bounding box ${bus.firstCode.boundingBox} B`, goal: '—' },
      { figure: 'I2C bytes: countdown tick (median of 60; max)', value: `${bus.tickMedian.sent} B; max ${bus.tickMax} B`, baseline: `full frame ${bus.tickMedian.fullFrame} B (${(tickShare * 100).toFixed(1)} %); bounding box ${bus.tickMedian.boundingBox} B`, goal: '< 5 % of a full frame', met: tickShare < 0.05 },
      { figure: 'I2C bytes: switch to signed in', value: `${bus.toSignedIn.sent} B`, baseline: `full frame ${bus.toSignedIn.fullFrame} B; bounding box ${bus.toSignedIn.boundingBox} B`, goal: '—' },
      { figure: `PNG driver: a frame encoded on the event loop (${png.width}×${png.height}, scale 4, countdown ticks; median of ${png.frameMs.length})`, value: `${ms(pngMedian, 1)} (first: ${ms(png.frameMs[0]!, 1)}; ${kib(png.bytes)} a file)`, baseline: `pngjs encoding the same picture: ${ms(median(png.pngjsMs), 0)} (${(median(png.pngjsMs) / pngMedian).toFixed(0)}×)`, goal: '≤ 20 ms', met: pngMedian <= 20 },
      { figure: 'Bytes written to storage per idle signed-in hour (`write_bytes`, runtime directory on a tmpfs)', value: `${kib(perHour(idle.signedInStorageBytes))} (${kib(median(idle.signedInStorageBytes))} in ${(idle.windowMs / 1000).toFixed(0)} s)`, baseline: `floor: one cache write per token refresh, ${kib(idle.cacheBytes)} (about one refresh an hour)`, goal: 'nothing but token refreshes', met: median(idle.signedInStorageBytes) === 0 },
      { figure: 'Bytes written to storage per hour, both jobs every minute', value: `${kib(perHour(idle.busyStorageBytes))} (${idle.busyRuns} job runs by ${CHILDREN_PER_STATE} agents in the window)`, baseline: `floor: one cache write per token refresh, ${kib(idle.cacheBytes)}`, goal: 'no write per job run', met: median(idle.busyStorageBytes) === 0 && idle.busyRuns > 0 },
      { figure: 'CPU over 60 s idle, signed in, evdev button (gpio-keys device open, waiting)', value: pct(median(idle.evdevCpuPct)), baseline: `signed in, no button: ${pct(median(idle.signedInCpuPct))}`, goal: '< 0.2 % of a core', met: median(idle.evdevCpuPct) < 0.2 },
      { figure: 'Resident memory, signed in, idle, evdev button', value: mib(median(idle.evdevRssMiB)), baseline: `signed in: ${mib(rssSignedIn)}`, goal: '< 64 MB', met: median(idle.evdevRssMiB) * 1.048576 < 64 },
      { figure: 'Resident memory, signed in, idle, 3 notification targets (webhook, ntfy, Home Assistant)', value: mib(median(idle.notifyingRssMiB)), baseline: `signed in, none: ${mib(rssSignedIn)}; ${idle.notificationsReceived} notifications received`, goal: '< 64 MB', met: median(idle.notifyingRssMiB) * 1.048576 < 64 },
      { figure: 'CPU over 60 s idle, 3 notification targets', value: pct(median(idle.notifyingCpuPct)), baseline: `signed in, none: ${pct(median(idle.signedInCpuPct))}`, goal: '< 0.2 % of a core', met: median(idle.notifyingCpuPct) < 0.2 },
      { figure: 'Longest event-loop stall drawing a full frame (QR screen)', value: `${ms(stallMedian, 1)} (first: ${ms(stalls[0]!, 1)})`, baseline: 'a full frame on a 100 kHz bus: 93 ms, off the event loop', goal: '≤ 20 ms', met: Math.max(stallMedian, stalls[0]!) <= 20 },
      { figure: 'Silent token, encrypted file cache', value: `${ms(tokens.encryptedMs, 3)} (${tokens.requestsPerCall.encrypted.toFixed(2)} HTTP requests a call)`, baseline: `in memory, unencrypted: ${ms(tokens.memoryMs, 3)} (${tokens.ratio.toFixed(2)}×); in-memory plugin: ${ms(tokens.memoryPluginMs, 3)}`, goal: '—' },
      ...scaling.flatMap((s) => [
        { figure: `Resident memory, signed in, idle, ${s.jobs} job(s)`, value: mib(median(s.rssMiB)), baseline: `2 jobs (default): ${mib(rssSignedIn)}`, goal: '—' },
        { figure: `CPU over 60 s idle, ${s.jobs} job(s)`, value: pct(median(s.cpuPct)), baseline: `2 jobs (default): ${pct(median(idle.signedInCpuPct))}`, goal: '—' },
      ]),
      ...fleet.map((f) => ({
        figure: `Simulated fleet: ${f.devices} devices, ${f.schedules.join(', ')}, splay ${f.splay}: peak Graph requests`,
        value: `${f.peakPerSecond}/s; ${f.peakPer10s}/10 s`,
        baseline: `mean ${f.meanPerSecond.toFixed(2)}/s (${f.requestsPerDay} a day)`,
        goal: f.splay === 'off' ? '—' : '≤ 10× the mean a second',
        ...(f.splay === 'off' ? {} : { met: f.peakPerSecond <= 10 * f.meanPerSecond }),
      })),
      { figure: 'Approval to signed-in screen (approved just after a poll)', value: ms(approvalMedian), baseline: `polling interval ${ms(approval.intervalMs)} (+${ms(approvalMedian - approval.intervalMs)})`, goal: '—' },
    ];
    const table = [
      '| figure (median) | measured | baseline, same run | goal | met |',
      '|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.figure} | ${r.value} | ${r.baseline} | ${r.goal} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`),
    ].join('\n');
    const importLine = Object.entries(imports).map(([name, v]) => `${name} ${v.toFixed(0)} ms`).join(', ');
    process.stdout.write(`${table}\n\nImport cost over a bare \`node\` (median of 5): ${importLine}.\n`
      + `Machine: ${host.cpu}, ${host.cores} cores, Node ${host.node} (\`${['node', ...NODE_FLAGS].join(' ')}\`, as the service runs it), ${host.kernel}, load average ${host.loadavg1m} at start.\n`);

    const out = path.join(REPO, '.bench');
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'bench.json'), `${JSON.stringify({
      at: new Date().toISOString(),
      machine: host,
      nodeFlags: NODE_FLAGS,
      rows,
      importCostMs: imports,
      raw: { first, idle, scaling, fleet, bus, stalls, png, tokens, approval },
    }, null, 2)}\n`);
    log(`written ${path.join(out, 'bench.json')}`);
  } finally {
    await idp.close();
    await rm(root, { recursive: true, force: true });
    await rm(build.dir, { recursive: true, force: true });
  }
}

/**
 * The in-process figures (stalls, bus bytes, tokens, approval) are the agent's modules running in
 * this process: run it with the service's node flags too, by starting it again with them.
 */
function underServiceFlags(): boolean {
  return NODE_FLAGS.every((flag) => process.execArgv.includes(flag));
}

if (underServiceFlags()) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  log(`running again with the service's node flags: ${NODE_FLAGS.join(' ')}`);
  const again = spawnSync(process.execPath, [...NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exitCode = again.status ?? 1;
}
