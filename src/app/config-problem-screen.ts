import type { ConfigError } from '../config/index.js';
import { readDisplaySettings } from '../app/early-display.js';
import { renderScreen } from '../display/screens.js';
import { silentLogger } from '../log.js';
import { createDisplay } from './displays.js';
import type { Display } from '../display/display.js';

/**
 * A device with no monitor: when the configuration is wrong, say so on the OLED as well as in the
 * journal, if the display section itself can be read. Best effort, and bounded in time: the agent
 * is exiting with 78 either way.
 */
export async function showConfigProblem(err: ConfigError, opened?: Display, timeoutMs = 3_000): Promise<void> {
  if (!err.file) return;
  let display = opened;
  if (!display) try {
    // Read as the first frame reads it (the same rules, pngPath made absolute the same way).
    const read = readDisplaySettings(err.file);
    // The panel only: a configuration that failed its checks has no checked place to write a PNG
    // (its pngPath may name the cache key: config/paths.ts).
    if (!read || read.driver !== 'ssd1306') return;
    const settings = { ...read, driver: 'ssd1306' as const, pngPath: undefined };
    display = await createDisplay({ display: settings }, silentLogger());
  } catch {
    return; // the display does not open: stderr and the journal say what is wrong
  }
  const field = (err.problems[0] ?? '').split(':')[0] ?? '';
  const frame = renderScreen({
    kind: 'message',
    title: 'Config problem',
    reason: err.problems.length === 1 ? `Check ${field}` : `${err.problems.length} settings to fix`,
    action: 'journalctl -u graph-device-agent',
    tone: 'error',
  }, Date.now(), { width: display.width, height: display.height });
  const shown = (async () => {
    if (!opened) await display.open();
    await display.show(frame);
    await display.close({ blank: false });
  })();
  await Promise.race([shown.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}
