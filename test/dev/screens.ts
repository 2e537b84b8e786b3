/**
 * Regenerates the screen pictures in hardware/screens/ (the README and the hardware guide show
 * them): every screen kind at 128×64 and 128×32, and hw-test's pattern, drawn by the real renderer
 * and scaled up to look like the panel.
 *
 *   npx tsx test/dev/screens.ts [output folder]
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OLED_STYLE, frameToPng, renderScreen } from '../../src/display/index.js';
import { writeFileAtomic } from '../../src/files/atomic-write.js';
import { renderTestPattern } from '../../src/display/screens.js';
import type { Screen } from '../../src/display/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = resolve(process.argv[2] ?? join(root, 'hardware', 'screens'));

// A fixed moment and zone, so the pictures only change when the drawing does.
const now = Date.UTC(2025, 2, 14, 10, 47, 28);
const issuedAt = now - 28_000;
const expiresAt = issuedAt + 900_000;
const timeZone = 'UTC';

const REAL_URL = 'https://microsoft.com/devicelogin';
const DEMO_URL = 'https://127.0.0.1:8443/devicelogin';

const screens: Record<string, Screen> = {
  'starting': { kind: 'starting', detail: 'Checking sign-in' },
  'device-code': { kind: 'device-code', userCode: 'Q6GR3KMGL', verificationUri: REAL_URL, issuedAt, expiresAt },
  // At `now` (28 s after the code came) it is the label's turn: "Sign in only if you are at …".
  'device-code-label': { kind: 'device-code', userCode: 'Q6GR3KMGL', verificationUri: REAL_URL, issuedAt, expiresAt, device: 'kiosk-3' },
  'device-code-demo': { kind: 'device-code', userCode: 'FJ7KQ2XYZ', verificationUri: DEMO_URL, issuedAt, expiresAt },
  'device-code-offline': { kind: 'device-code', userCode: 'Q6GR3KMGL', verificationUri: REAL_URL, issuedAt, expiresAt, offline: true },
  'device-code-long': { kind: 'device-code', userCode: 'Q6GR-3KMG-L7XD', verificationUri: 'https://login.microsoftonline.com/common/oauth2/deviceauth', issuedAt, expiresAt: now + 61_000 },
  'signed-in': {
    kind: 'signed-in', name: 'Megan Bowen', lines: ['Manager: Miriam Graham', 'Next: Design review 14:00'],
    lastSyncAt: now - 5 * 60_000, online: true,
  },
  'signed-in-unicode': {
    kind: 'signed-in', name: 'José Müller-Łukasiewicz', lines: ['Nächstes: Straße', 'Руководитель: Анна', 'Next: 10:30 定例会議'],
    lastSyncAt: now - 5 * 60_000, online: true,
  },
  'signed-in-cjk': {
    kind: 'signed-in', name: '山田 太郎', lines: ['Next: 10:30 定例会議', 'Σύσκεψη 14:00'], lastSyncAt: now - 5 * 60_000, online: true,
  },
  'signed-in-offline': {
    kind: 'signed-in', name: 'Alex Wilber', lines: ['No manager on record'], lastSyncAt: now - 3 * 86_400_000, online: false,
  },
  'code-expired': {
    kind: 'message', tone: 'info', title: 'Code expired', reason: 'Nobody signed in within 15 minutes.',
    action: 'Press the button for a new code',
  },
  'signed-out': {
    kind: 'message', tone: 'info', title: 'Signed out', reason: 'The sign-in was removed from this device.',
    action: 'Press the button to sign in',
  },
  'blocked': {
    kind: 'message', tone: 'error', title: 'Sign-in blocked',
    reason: 'A Conditional Access policy blocks the device code flow (AADSTS53003).',
    action: 'Ask your admin, then press the button',
  },
  'config-problem': {
    kind: 'message', tone: 'error', title: 'Config problem', reason: 'clientId is missing in /etc/graph-device-agent/config.json',
  },
};

await mkdir(outDir, { recursive: true });
for (const [name, screen] of Object.entries(screens)) {
  for (const height of [64, 32]) {
    const frame = renderScreen(screen, now, { width: 128, height }, { timeZone });
    const file = join(outDir, `${name}-128x${height}.png`);
    await writeFileAtomic(file, frameToPng(frame, OLED_STYLE), { mode: 0o644, dirMode: 0o755 });
    console.log(file);
  }
}

// What `graph-device-agent hw-test` draws first (hardware/display.md shows it).
for (const height of [64, 32]) {
  const frame = renderTestPattern({ width: 128, height }, { controller: 'ssd1306', address: 0x3c });
  const file = join(outDir, `hw-test-128x${height}.png`);
  await writeFileAtomic(file, frameToPng(frame, OLED_STYLE), { mode: 0o644, dirMode: 0o755 });
  console.log(file);
}
