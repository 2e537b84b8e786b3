import type { HttpsRequest } from '../net/https.js';
import type { NotificationBody, NotifyEvent } from './notification.js';

/**
 * The formats of the targets: each turns a notification body into one HTTP request. Pure. The
 * bearer token (read from a file or a systemd credential by app/notifications.ts) is passed in,
 * never taken from the configuration.
 */

export type TargetType = 'webhook' | 'ntfy' | 'homeassistant';

export interface TargetSpec {
  type: TargetType;
  url: string;
  name?: string | undefined;
  events?: readonly NotifyEvent[] | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  priority?: number | undefined;
  tags?: readonly string[] | undefined;
  click?: string | undefined;
}

/** A target's name in logs: its own, else "ntfy ntfy.sh". Never the path (a webhook id is a secret). */
export function targetName(t: Pick<TargetSpec, 'type' | 'url' | 'name'>): string {
  return t.name ?? `${t.type} ${new URL(t.url).host}`;
}

/** Whether `event` goes to this target. */
export function wants(t: Pick<TargetSpec, 'events'>, event: NotifyEvent): boolean {
  return !t.events || t.events.includes(event);
}

const NTFY_TAGS: Record<NotifyEvent, string[]> = {
  'signin.needed': ['key', 'warning'],
  'signin.succeeded': ['white_check_mark'],
  'graph.failing': ['warning'],
  'graph.recovered': ['white_check_mark'],
  'signin.refresh_old': ['hourglass'],
  'device.display_failed': ['rotating_light'],
  'device.button_failed': ['rotating_light'],
  test: ['test_tube'],
};

export function buildRequest(t: TargetSpec, body: NotificationBody, options: { bearer?: string | undefined; timeoutMs: number }): HttpsRequest {
  const headers: Record<string, string> = {
    ...t.headers,
    'content-type': 'application/json',
    'user-agent': 'graph-device-agent',
    ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
  };
  if (t.type === 'ntfy') {
    // ntfy's JSON publish form: POST to the server's root with the topic in the body. Unlike its
    // X-Title/X-Tags headers, JSON carries any label (non-ASCII too) without encoding tricks.
    const url = new URL(t.url);
    const segments = url.pathname.split('/');
    const topic = segments.pop() ?? '';
    url.pathname = `${segments.join('/')}/`;
    url.search = '';
    const click = t.click ?? (body.event === 'signin.needed' ? body.verificationUri : undefined);
    const message = {
      topic,
      title: body.title,
      message: body.message,
      priority: t.priority ?? (body.severity === 'info' ? 3 : 4),
      tags: [...NTFY_TAGS[body.event], ...(t.tags ?? [])],
      ...(click ? { click } : {}),
    };
    return { method: 'POST', url: url.toString(), headers, body: JSON.stringify(message), timeoutMs: options.timeoutMs, maxBodyBytes: 64 * 1024 };
  }
  // A webhook and Home Assistant (its trigger sees the body as trigger.json) get the body itself.
  return { method: 'POST', url: t.url, headers, body: JSON.stringify(body), timeoutMs: options.timeoutMs, maxBodyBytes: 64 * 1024 };
}
