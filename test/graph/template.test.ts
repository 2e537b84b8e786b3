import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate, validateTemplate } from '../../src/graph/template.js';
import { ADELE } from './support.js';

describe('renderTemplate', () => {
  it('fills a field of the response', () => {
    assert.equal(renderTemplate('{displayName}', ADELE), 'Adele Vance');
    assert.equal(renderTemplate('Manager: {displayName}', { displayName: 'Nestor Wilke' }), 'Manager: Nestor Wilke');
  });

  it('follows nested paths through objects and array indexes', () => {
    const events = { value: [{ subject: 'Stand-up', start: { dateTime: '2026-11-28T09:00:00' } }, { subject: 'Lunch' }] };
    assert.equal(renderTemplate('{value.0.subject}', events), 'Stand-up');
    assert.equal(renderTemplate('{value.1.subject} at {value.0.start.dateTime}', events), 'Lunch at 2026-11-28T09:00:00');
  });

  it('renders missing fields, nulls, objects and out-of-range indexes as empty strings', () => {
    assert.equal(renderTemplate('[{jobTitle}]', {}), '[]');
    assert.equal(renderTemplate('[{mobilePhone}]', ADELE), '[]');
    assert.equal(renderTemplate('[{value.5.subject}]', { value: [] }), '[]');
    assert.equal(renderTemplate('[{value.x}]', { value: ['a'] }), '[]');
    assert.equal(renderTemplate('[{displayName.first}]', ADELE), '[]');
    assert.equal(renderTemplate('[{value}]', { value: { nested: true } }), '[]');
    assert.equal(renderTemplate('No manager', null), 'No manager');
  });

  it('never reaches inherited properties (no eval, no prototype walk)', () => {
    assert.equal(renderTemplate('[{constructor}][{__proto__}][{toString}]', {}), '[][][]');
    assert.equal(renderTemplate('[{constructor.name}]', ADELE), '[]');
    assert.equal(renderTemplate('{process.env.HOME}', {}), '');
  });

  it('formats numbers, booleans and lists of strings', () => {
    assert.equal(renderTemplate('{n} {b}', { n: 42, b: false }), '42 false');
    assert.equal(renderTemplate('{businessPhones}', { businessPhones: ['+1 425 555 0109', '+1 425 555 0110'] }), '+1 425 555 0109, +1 425 555 0110');
  });

  it('keeps a value on one line', () => {
    assert.equal(renderTemplate('{displayName}', { displayName: '  Adele\nVance\t ' }), 'Adele Vance');
  });

  it('writes {{ and }} as literal braces', () => {
    assert.equal(renderTemplate('{{{displayName}}}', ADELE), '{Adele Vance}');
  });

  it('shows a broken template as written, and validateTemplate says what is wrong', () => {
    assert.equal(renderTemplate('Hi {displayName', ADELE), 'Hi {displayName');
    assert.match(validateTemplate('Hi {displayName') ?? '', /unclosed "\{"/);
    assert.match(validateTemplate('a } b') ?? '', /unmatched "\}"/);
    assert.match(validateTemplate('{}') ?? '', /empty/);
    assert.match(validateTemplate('{value..subject}') ?? '', /empty path segment/);
    assert.equal(validateTemplate('Manager: {displayName}'), undefined);
  });

  it('formats date-times: a calendar time as written (Graph gave it in the asked-for zone), a zoned one in the configured zone', () => {
    const event = { value: [{ subject: 'Stand-up', start: { dateTime: '2025-03-14T10:30:00.0000000', timeZone: 'Europe/Berlin' } }] };
    assert.equal(renderTemplate('Next: {value.0.start.dateTime|time} {value.0.subject}', event, { timeZone: 'UTC' }), 'Next: 10:30 Stand-up');
    assert.equal(renderTemplate('{value.0.start.dateTime|date} {value.0.start.dateTime | day}', event), '14 Mar Fri');
    const modified = { lastModifiedDateTime: '2025-03-14T09:30:00Z' };
    assert.equal(renderTemplate('{lastModifiedDateTime|time}', modified, { timeZone: 'Europe/Berlin' }), '10:30');
    assert.equal(renderTemplate('{lastModifiedDateTime|time}', modified, { timeZone: 'Asia/Kolkata' }), '15:00');
    // A Windows zone name is fine for Graph's header but unknown to Intl: no crash, a time still.
    assert.match(renderTemplate('{lastModifiedDateTime|time}', modified, { timeZone: 'W. Europe Standard Time' }), /^\d\d:\d\d$/);
    assert.equal(renderTemplate('[{subject|time}]', { subject: 'not a time' }), '[]');
    assert.match(validateTemplate('{start.dateTime|clock}') ?? '', /one of time, date, day/);
    assert.equal(validateTemplate('{start.dateTime|time}'), undefined);
  });
});
