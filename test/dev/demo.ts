/**
 * npm run demo: the whole agent on a laptop, no Pi, no tenant.
 *
 * Starts the identity emulator (HTTPS, its own CA), then the real agent against it with the
 * simulated OLED drawn in this terminal (and mirrored to a PNG), the keyboard as the button, and
 * its JSON log in a file. Approve the code on the emulator's page or with the curl line shown.
 */
import { mkdtemp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startIdentityEmulator } from '../support/identity-emulator/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { runDaemon } from '../../src/commands/run.js';
import { frameToBox, PngDisplay } from '../../src/display/index.js';
import type { Display } from '../../src/display/display.js';
import { Frame } from '../../src/display/frame.js';
import { MirroredDisplays } from '../../src/app/displays.js';
import type { State } from '../../src/agent/machine.js';

const out = process.stdout;
const tty = out.isTTY === true;
const CSI = '\u001b[';

const idp = await startIdentityEmulator({
  intervalSec: 2,
  deviceCodeLifetimeSec: 300,
  accessTokenLifetimeSec: 600,
  ...(process.env.DEMO_PORT ? { port: Number(process.env.DEMO_PORT) } : {}),
});
const dir = process.env.DEMO_DIR ? path.resolve(process.env.DEMO_DIR) : await mkdtemp(path.join(tmpdir(), 'graph-device-agent-demo-'));
await mkdir(dir, { recursive: true });
const logFile = path.join(dir, 'agent.log');
const pngFile = path.join(dir, 'screen.png');

const config = parseConfig({
  auth: { clientId: '00000000-0000-0000-0000-00000000demo', authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
  graph: {
    baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host],
    jobs: [
      { name: 'me', schedule: '* * * * *', path: '/me', line: '{jobTitle}' },
      { name: 'manager', schedule: '* * * * *', path: '/me/manager', line: 'Manager: {displayName}', notFoundLine: 'No manager' },
    ],
  },
  network: { caFile: idp.caFile },
  display: { driver: 'none' },
  button: { driver: 'keyboard' },
  signIn: { minPollIntervalSec: 1 },
  stateDirectory: dir,
}, { file: path.join(dir, 'config.json'), env: {} });

let state: State | undefined;

/** The header: how to approve; the OLED; the footer: what to press. Redrawn as one screen. */
function header(): string[] {
  const code = state?.name === 'showing-code' ? state.code.userCode : '<CODE>';
  return [
    'graph-device-agent demo: the agent against a local identity emulator (no Pi, no tenant needed)',
    '',
    `  Approve in a browser:  ${idp.verificationUri}   (its CA: ${idp.caFile})`,
    `  or with curl:          curl --cacert ${idp.caFile} -d user_code=${code} -d action=approve ${idp.verificationUri}`,
    `  (action=deny declines the code)`,
    '',
  ];
}
const footer = [
  '',
  '  Enter/space: button press (new code; refresh when signed in)   h: hold (sign out)   q or Ctrl-C: quit',
  `  Log (JSON lines): ${logFile}    PNG of the screen: ${pngFile}`,
];

class DemoConsole implements Display {
  readonly name = 'terminal';
  readonly width = 128;
  readonly height = 64;
  private last = new Frame(128, 64);
  async open(): Promise<void> {
    if (tty) out.write(`${CSI}?25l`);
  }
  async show(frame: Frame): Promise<void> {
    this.last = frame.clone();
    this.draw();
  }
  async setPower(on: boolean): Promise<void> {
    if (!on) this.last = new Frame(128, 64);
    this.draw();
  }
  async close(): Promise<void> {
    if (tty) out.write(`${CSI}?25h`);
  }
  draw(): void {
    const lines = [...header(), ...frameToBox(this.last, 'SSD1306 128x64 (simulated)'), ...footer];
    out.write(tty ? `${CSI}H${CSI}2J${lines.join('\n')}\n` : `${lines.join('\n')}\n`);
  }
}

const screen = new DemoConsole();
const display = new MirroredDisplays([screen, new PngDisplay({ path: pngFile, width: 128, height: 64, scale: 4 })]);
const logger = createLogger({ level: 'debug', destination: pino.destination({ dest: logFile, sync: true }) });

const code = await runDaemon(config, {
  logger,
  overrides: {
    display,
    onStateChange: (s) => {
      state = s;
    },
  },
});
await idp.close();
out.write(`\nstopped. The log is in ${logFile}\n`);
process.exit(code);
