import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from '../../../src/app/app.js';
import { parseConfig } from '../../../src/config/index.js';
import type { Display } from '../../../src/display/display.js';
import type { Frame } from '../../../src/display/frame.js';
import { Ssd1306Display } from '../../../src/display/ssd1306/index.js';
import { silentLogger } from '../../../src/log.js';
import { startIdentityEmulator } from '../../support/identity-emulator/index.js';
import { Ssd1306Emulator } from '../../support/ssd1306-emulator.js';
import { sleep } from './processes.js';

/**
 * From the person's approval to the signed-in screen on the panel, against the polling interval.
 *
 * The approval is given right after a poll was answered "pending": the worst case, where the
 * device learns of it only at its next poll, one interval later. What the agent adds on top of
 * the interval (the token request, the cache write, the frame on a 100 kHz bus) is the figure's
 * point. The real agent (createApp), the real msal-node, HTTPS to the identity emulator.
 */

export interface ApprovalFigures {
  intervalMs: number;
  latenciesMs: number[];
}

/** Times when the signed-in screen reached the panel: the driver's show() resolves once it is sent. */
class TimedDisplay implements Display {
  readonly name = 'ssd1306-emulated';
  readonly width = 128;
  readonly height = 64;
  signedInShownAt: number | undefined;
  isSignedIn = (): boolean => false;
  constructor(private readonly inner: Display) {}
  open(): Promise<void> {
    return this.inner.open();
  }
  async show(frame: Frame): Promise<void> {
    const signedIn = this.isSignedIn();
    await this.inner.show(frame);
    if (signedIn && this.signedInShownAt === undefined) this.signedInShownAt = performance.now();
  }
  setPower(on: boolean): Promise<void> {
    return this.inner.setPower(on);
  }
  close(options?: { blank?: boolean }): Promise<void> {
    return this.inner.close(options);
  }
}

export async function measureApproval(runs: number, intervalSec: number): Promise<ApprovalFigures> {
  const idp = await startIdentityEmulator({ intervalSec, deviceCodeLifetimeSec: 900 });
  const latencies: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const dir = await mkdtemp(path.join(tmpdir(), 'gda-bench-approval-'));
      const config = parseConfig({
        auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666', authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
        graph: { baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host] },
        network: { caFile: idp.caFile },
        display: { driver: 'none' },
        signIn: { minPollIntervalSec: 1 },
        stateDirectory: dir,
      }, { file: path.join(dir, 'config.json'), env: {} });
      const emulator = new Ssd1306Emulator({ bytesPerSecond: 11_111 });
      const display = new TimedDisplay(new Ssd1306Display({
        bus: 1, address: 0x3c, width: 128, height: 64, controller: 'ssd1306', logger: silentLogger(), openBus: async () => emulator,
      }));
      const app = await createApp(config, silentLogger(), { display });
      display.isSignedIn = () => app.agent.state.name === 'signed-in';
      try {
        await app.start();
        const shown = await app.agent.waitFor((s) => s.name === 'showing-code');
        if (shown.name !== 'showing-code') throw new Error('no code');
        // Wait for a poll answered "pending", then approve at once.
        const polls = (): number => idp.requests.filter((r) => r.endpoint === 'token' && r.status === 400).length;
        const before = polls();
        while (polls() === before) await sleep(2);
        const approvedAt = performance.now();
        idp.approve(shown.code.userCode);
        await app.agent.waitFor((s) => s.name === 'signed-in');
        while (display.signedInShownAt === undefined) await sleep(2);
        latencies.push(display.signedInShownAt - approvedAt);
      } finally {
        await app.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await idp.close();
  }
  return { intervalMs: intervalSec * 1000, latenciesMs: latencies };
}
