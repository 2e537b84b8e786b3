import { commandContext, type CommandIo } from './context.js';
import { HttpsClient } from '../net/https.js';
import { createNotifier } from '../app/notifications.js';
import { notificationBody } from '../notify/notification.js';

/**
 * `graph-device-agent notify-test`: one test notification to every configured target, each tried
 * once, and what each answered. Exit 0 when all took it, 1 when one did not, 78-free: a missing
 * `notify.targets` is said, not an error.
 */
export async function notifyTestCommand(options: CommandIo): Promise<number> {
  const ctx = commandContext(options);
  const { config } = ctx;
  if (config.notify.targets.length === 0) {
    ctx.out('No notification targets: add notify.targets to the configuration (README, "Notifications").\n');
    return 0;
  }
  const http = HttpsClient.fromCaFile(config.network.caFile);
  try {
    const notifier = await createNotifier(config, ctx.logger, { http, env: ctx.env });
    const results = await notifier.sender.sendOnce(notificationBody({ event: 'test' }, config.device.label, Date.now()));
    const skipped = config.notify.targets.length - results.length;
    for (const { target, outcome } of results) {
      ctx.out(outcome.ok ? `${target}: sent (HTTP ${outcome.status})\n` : `${target}: FAILED (${outcome.problem}): ${outcome.fix}\n`);
    }
    if (skipped > 0) ctx.out(`${skipped} target(s) left out: their bearer token could not be read (see the warning above)\n`);
    notifier.stop();
    return results.every((r) => r.outcome.ok) && skipped === 0 ? 0 : 1;
  } finally {
    http.close();
  }
}
