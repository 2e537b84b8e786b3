import { GraphError, type GraphContext, type GraphRoute } from './graph.js';
import type { EmulatedUser } from './users.js';

/**
 * Graph beyond the user: the calendar (`/me/events`, `/me/calendarView`), presence and the inbox's
 * counts, in Graph's shapes, with the query options a status line needs (`$select`, `$top`,
 * `$skip`, `$orderby`; `startDateTime`/`endDateTime` for a calendar view). What the emulator does
 * not implement (`$filter`, `$search`, `$expand`) is a 400 naming it, never silently ignored: a
 * config tried against the emulator then behaves the same against Graph or fails loudly.
 *
 * graph.ts puts these routes in DEFAULT_GRAPH_ROUTES and this file throws graph.ts's GraphError:
 * an import cycle, safe because everything at the top level here is a function declaration
 * (hoisted, usable before this module runs). Keep it that way: no top-level const or class.
 */

/** One calendar item; times in epoch ms. */
export interface EmulatedEvent {
  id: string;
  subject: string;
  start: number;
  end: number;
  location?: string;
  organizer: { name: string; address: string };
  isAllDay?: boolean;
  showAs?: 'free' | 'tentative' | 'busy' | 'oof' | 'workingElsewhere';
  bodyPreview?: string;
  /** Epoch ms; an hour before `start` when absent. */
  createdAt?: number;
}

/** What a person's mailbox and status hold, as the routes serve them. */
export interface Workload {
  events: EmulatedEvent[];
  presence: { availability: string; activity: string; statusMessage?: string };
  inbox: { unreadItemCount: number; totalItemCount: number };
}

export interface WorkloadRoutesOptions {
  /** The clock the default calendar is built around; Date.now by default. */
  now?: () => number;
  /** A person's calendar, presence and inbox; asked on every request, so a test can change them. */
  workload?: (user: EmulatedUser, now: number, ctx: GraphContext) => Workload;
}

/**
 * The routes. The emulator has them by default (around Date.now); a test that wants other data
 * or another clock passes `graphRoutes: workloadRoutes({...})`, which is tried first.
 */
export function workloadRoutes(options: WorkloadRoutesOptions = {}): GraphRoute[] {
  const now = options.now ?? Date.now;
  const dataFor = (ctx: GraphContext): Workload => (options.workload ?? defaultWorkload)(ctx.me, now(), ctx);
  const calendarScopes = ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'];
  const mailScopes = ['Mail.ReadBasic', 'Mail.Read', 'Mail.ReadWrite'];
  const events = (ctx: GraphContext, segment: string) => ({
    status: 200,
    body: eventCollection(ctx, dataFor(ctx).events, segment, undefined),
    ...preferenceApplied(ctx),
  });
  const calendarView = (ctx: GraphContext, segment: string) => ({
    status: 200,
    body: eventCollection(ctx, dataFor(ctx).events, segment, timeWindow(ctx.query)),
    ...preferenceApplied(ctx),
  });
  return [
    { method: 'GET', path: '/me/events', anyScope: calendarScopes, handle: (ctx) => events(ctx, 'events') },
    { method: 'GET', path: '/me/calendar/events', anyScope: calendarScopes, handle: (ctx) => events(ctx, 'calendar/events') },
    { method: 'GET', path: '/me/calendarView', anyScope: calendarScopes, handle: (ctx) => calendarView(ctx, 'calendarView') },
    { method: 'GET', path: '/me/calendar/calendarView', anyScope: calendarScopes, handle: (ctx) => calendarView(ctx, 'calendar/calendarView') },
    {
      method: 'GET',
      path: '/me/presence',
      anyScope: ['Presence.Read', 'Presence.Read.All'],
      handle: (ctx) => {
        rejectUnsupported(ctx.query, ['$select']);
        const { presence } = dataFor(ctx);
        const resource = {
          id: ctx.me.id,
          availability: presence.availability,
          activity: presence.activity,
          statusMessage: presence.statusMessage === undefined ? null : { message: { content: presence.statusMessage, contentType: 'text' } },
        };
        return { status: 200, body: select(resource, ctx.query, 'presence', `${ctx.baseUrl}/$metadata#users('${ctx.me.id}')/presence`) };
      },
    },
    {
      method: 'GET',
      path: '/me/mailFolders/inbox',
      anyScope: mailScopes,
      handle: (ctx) => {
        rejectUnsupported(ctx.query, ['$select']);
        const { inbox } = dataFor(ctx);
        const resource = {
          id: folderId(ctx.me, 'inbox'),
          displayName: 'Inbox',
          parentFolderId: folderId(ctx.me, 'msgfolderroot'),
          childFolderCount: 0,
          unreadItemCount: inbox.unreadItemCount,
          totalItemCount: inbox.totalItemCount,
          isHidden: false,
        };
        return { status: 200, body: select(resource, ctx.query, 'mailFolder', `${ctx.baseUrl}/$metadata#users('${ctx.me.id}')/mailFolders`) };
      },
    },
  ];
}

/**
 * A plausible day around `now`: a meeting yesterday, a stand-up at the next half hour, a 1:1 with
 * the manager two hours later and a launch in three days (in creation order, not by start, so a
 * path without `$orderby` shows why it needs one). Available; 3 unread of 128.
 */
export function defaultWorkload(user: EmulatedUser, now: number, ctx: GraphContext): Workload {
  const minute = 60_000;
  const hour = 60 * minute;
  const nextHalfHour = Math.ceil((now + minute) / (30 * minute)) * 30 * minute;
  const manager = user.managerId ? ctx.users.find(user.managerId) : undefined;
  const self = { name: user.displayName, address: user.mail ?? user.userPrincipalName };
  const boss = manager ? { name: manager.displayName, address: manager.mail ?? manager.userPrincipalName } : self;
  const event = (n: number, e: Omit<EmulatedEvent, 'id'>): EmulatedEvent => ({ id: eventId(user, n), ...e });
  return {
    events: [
      event(1, { subject: 'Quarterly business review', start: now - 26 * hour, end: now - 25 * hour, location: 'Conf Room Rainier', organizer: boss, showAs: 'busy' }),
      event(2, { subject: 'Product launch', start: nextHalfHour + 72 * hour, end: nextHalfHour + 74 * hour, location: 'Main auditorium', organizer: boss, showAs: 'busy' }),
      event(3, { subject: 'Team stand-up', start: nextHalfHour, end: nextHalfHour + 15 * minute, location: 'Teams', organizer: self, showAs: 'busy', bodyPreview: 'Daily sync.' }),
      event(4, { subject: manager ? `1:1 with ${manager.displayName}` : 'Planning', start: nextHalfHour + 2 * hour, end: nextHalfHour + 2 * hour + 30 * minute, organizer: boss, showAs: 'busy' }),
    ],
    presence: { availability: 'Available', activity: 'Available' },
    inbox: { unreadItemCount: 3, totalItemCount: 128 },
  };
}

// ---- events ---------------------------------------------------------------------------------

/** The properties an event has (what `$select` may name), in Graph's order. */
function eventProperties(): string[] {
  return [
    'createdDateTime', 'lastModifiedDateTime', 'subject', 'bodyPreview', 'importance', 'sensitivity',
    'isAllDay', 'isCancelled', 'isOnlineMeeting', 'showAs', 'type', 'webLink', 'start', 'end', 'location', 'organizer',
  ];
}

/** Graph's calendar answers carry local times without a zone, plus the zone (UTC unless `Prefer: outlook.timezone`). */
function dateTimeTimeZone(ms: number, zone = 'UTC'): { dateTime: string; timeZone: string } {
  if (zone === 'UTC') return { dateTime: new Date(ms).toISOString().replace(/Z$/, '0000'), timeZone: 'UTC' };
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(ms).map((p) => [p.type, p.value]));
  const fraction = String(ms % 1000).padStart(3, '0');
  return { dateTime: `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${fraction}0000`, timeZone: zone };
}

/**
 * The zone of `Prefer: outlook.timezone="Europe/Berlin"`, when it is one the emulator can convert
 * to (IANA names; Graph also takes Windows names, which the emulator answers in UTC, unapplied).
 */
function preferredZone(ctx: GraphContext): string | undefined {
  const header = ctx.headers?.['prefer'];
  const text = Array.isArray(header) ? header.join(',') : header ?? '';
  const m = /outlook\.timezone\s*=\s*"([^"]*)"/i.exec(text);
  const zone = m?.[1];
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

/** Graph's answer to a Prefer header it honoured. */
function preferenceApplied(ctx: GraphContext): { headers?: Record<string, string> } {
  const zone = preferredZone(ctx);
  return zone ? { headers: { 'Preference-Applied': `outlook.timezone="${zone}"` } } : {};
}

function eventResource(e: EmulatedEvent, zone?: string): Record<string, unknown> {
  const created = new Date(e.createdAt ?? e.start - 3_600_000).toISOString();
  return {
    '@odata.etag': `W/"${Buffer.from(`${e.id}:1`).toString('base64')}"`,
    id: e.id,
    createdDateTime: created,
    lastModifiedDateTime: created,
    subject: e.subject,
    bodyPreview: e.bodyPreview ?? '',
    importance: 'normal',
    sensitivity: 'normal',
    isAllDay: e.isAllDay ?? false,
    isCancelled: false,
    isOnlineMeeting: e.location === 'Teams',
    showAs: e.showAs ?? 'busy',
    type: 'singleInstance',
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(e.id)}&exvsurl=1&path=/calendar/item`,
    start: dateTimeTimeZone(e.start, zone),
    end: dateTimeTimeZone(e.end, zone),
    location: { displayName: e.location ?? '', locationType: 'default', uniqueIdType: e.location ? 'private' : 'unknown' },
    organizer: { emailAddress: { name: e.organizer.name, address: e.organizer.address } },
  };
}

/** `events` or `calendarView`: ordered, windowed, paged and `$select`ed as Graph does. */
function eventCollection(ctx: GraphContext, all: EmulatedEvent[], segment: string, window: { start: number; end: number } | undefined): Record<string, unknown> {
  const { query } = ctx;
  rejectUnsupported(query, ['$select', '$top', '$skip', '$orderby', 'startDateTime', 'endDateTime']);
  // A calendar view holds every event that overlaps the window, the one under way included.
  let items = window ? all.filter((e) => e.start < window.end && e.end > window.start) : [...all];
  items = orderEvents(items, param(query, '$orderby'));
  const top = integerParam(query, '$top', 10, 1, 1000);
  const skip = integerParam(query, '$skip', 0, 0, Number.MAX_SAFE_INTEGER);
  const page = items.slice(skip, skip + top);
  const selectText = param(query, '$select');
  const names = selectText === undefined ? eventProperties() : selectedNames(selectText, eventProperties(), 'event');
  const zone = preferredZone(ctx);
  const value = page.map((e) => {
    const full = eventResource(e, zone);
    const out: Record<string, unknown> = { '@odata.etag': full['@odata.etag'], id: full['id'] };
    for (const name of names) out[name] = full[name];
    return out;
  });
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.baseUrl}/$metadata#users('${ctx.me.id}')/${segment.split('/').pop() ?? segment}${selectText ? `(${names.join(',')})` : ''}`,
    value,
  };
  if (skip + top < items.length) {
    // As Graph writes it: the other options kept, `$` not escaped, then the new `$skip`.
    const kept = [...query].filter(([key]) => key.toLowerCase() !== '$skip' && key.toLowerCase() !== 'skip');
    const next = [...kept, ['$skip', String(skip + top)]].map(([k, v]) => `${k}=${encodeURIComponent(v ?? '')}`).join('&');
    body['@odata.nextLink'] = `${ctx.baseUrl}/me/${segment}?${next}`;
  }
  return body;
}

/** `startDateTime` and `endDateTime`, both required by a calendar view, as Graph insists. */
function timeWindow(query: URLSearchParams): { start: number; end: number } {
  const startText = param(query, 'startDateTime');
  const endText = param(query, 'endDateTime');
  if (startText === undefined || endText === undefined) {
    throw new GraphError(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
  }
  const start = parseDateTime(startText, 'StartDateTime');
  const end = parseDateTime(endText, 'EndDateTime');
  if (end <= start) throw new GraphError(400, 'ErrorInvalidParameter', 'The parameter \'EndDateTime\' must be later than \'StartDateTime\'.');
  return { start, end };
}

function parseDateTime(text: string, name: string): number {
  // ISO 8601; without a zone Graph reads it as UTC (no Prefer header here).
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(text.trim());
  const ms = iso ? Date.parse(iso[3] ? text.trim() : `${text.trim()}Z`) : Number.NaN;
  if (Number.isNaN(ms)) throw new GraphError(400, 'ErrorInvalidParameter', `The value '${text}' of parameter '${name}' is invalid.`);
  return ms;
}

function orderEvents(items: EmulatedEvent[], orderby: string | undefined): EmulatedEvent[] {
  if (orderby === undefined) return items;
  const keys = orderby.split(',').map((clause) => {
    const [field = '', direction = 'asc', extra] = clause.trim().split(/\s+/);
    if (extra !== undefined || (direction !== 'asc' && direction !== 'desc')) {
      throw new GraphError(400, 'BadRequest', `Invalid $orderby clause '${clause.trim()}': expected 'property [asc|desc]'.`);
    }
    const key = eventSortKey(field);
    if (!key) throw new GraphError(400, 'BadRequest', `Could not find a property named '${field}' on type 'microsoft.graph.event'.`);
    return { key, sign: direction === 'desc' ? -1 : 1 };
  });
  return [...items].sort((a, b) => {
    for (const { key, sign } of keys) {
      const x = key(a);
      const y = key(b);
      if (x < y) return -sign;
      if (x > y) return sign;
    }
    return 0;
  });
}

function eventSortKey(field: string): ((e: EmulatedEvent) => number | string) | undefined {
  switch (field.toLowerCase()) {
    case 'start/datetime': return (e) => e.start;
    case 'end/datetime': return (e) => e.end;
    case 'subject': return (e) => e.subject.toLowerCase();
    case 'createddatetime':
    case 'lastmodifieddatetime': return (e) => e.createdAt ?? e.start - 3_600_000;
    default: return undefined;
  }
}

function eventId(user: EmulatedUser, n: number): string {
  return `AAMkAGEmu${Buffer.from(`${user.id}:event:${n}`).toString('base64url')}AAA=`;
}

function folderId(user: EmulatedUser, name: string): string {
  return `AQMkAGEmu${Buffer.from(`${user.id}:folder:${name}`).toString('base64url')}AAA=`;
}

// ---- query options --------------------------------------------------------------------------

/** A query option by name, case-insensitively (Graph accepts `$top` and `$TOP`, `startdatetime`). */
function param(query: URLSearchParams, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of query) {
    const bare = key.toLowerCase();
    // Graph also takes OData options without the "$" (`select=`), as the emulator's /me does.
    if (bare === wanted || (wanted.startsWith('$') && bare === wanted.slice(1))) return value;
  }
  return undefined;
}

function rejectUnsupported(query: URLSearchParams, allowed: string[]): void {
  const known = new Set(allowed.map((a) => a.toLowerCase().replace(/^\$/, '')));
  for (const key of query.keys()) {
    if (!known.has(key.toLowerCase().replace(/^\$/, ''))) {
      throw new GraphError(400, 'BadRequest', `The identity emulator does not implement the query option '${key}' on this path (it supports ${allowed.join(', ')}).`);
    }
  }
}

function integerParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = param(query, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    throw new GraphError(400, 'BadRequest', `Invalid value '${text}' for query option '${name}': expected an integer from ${min} to ${max}.`);
  }
  return Number(text);
}

/** `$select` names matched case-insensitively, as Graph does; an unknown one is Graph's 400. */
function selectedNames(selectText: string, properties: string[], type: string): string[] {
  const byLower = new Map(properties.map((p) => [p.toLowerCase(), p]));
  return selectText.split(',').map((s) => s.trim()).filter(Boolean).map((requested) => {
    const known = byLower.get(requested.toLowerCase());
    if (!known) throw new GraphError(400, 'BadRequest', `Could not find a property named '${requested}' on type 'microsoft.graph.${type}'.`);
    return known;
  });
}

/** A single entity with `@odata.context`, narrowed by `$select` (its `id` always stays, as in Graph). */
function select(resource: Record<string, unknown>, query: URLSearchParams, type: string, contextBase: string): Record<string, unknown> {
  const selectText = param(query, '$select');
  if (selectText === undefined) return { '@odata.context': `${contextBase}/$entity`, ...resource };
  const names = selectedNames(selectText, Object.keys(resource), type);
  const out: Record<string, unknown> = { '@odata.context': `${contextBase}(${names.join(',')})/$entity`, id: resource['id'] };
  for (const name of names) out[name] = resource[name];
  return out;
}
