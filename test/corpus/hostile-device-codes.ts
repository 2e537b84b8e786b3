import { MAX_POLL_INTERVAL_SEC, MAX_CODE_LIFETIME_SEC } from '../../src/auth/polling-guard.js';

/**
 * The hostile device code replies of hostile-device-codes.test.ts: each is one change to a good
 * reply. Here, not in the test file, so the corpus count (reply-corpus.test.ts) can read them.
 */

/** Refused before a code reaches the screen: the change, and what the refusal says. */
export const REFUSED: Array<[string, Record<string, unknown>, RegExp]> = [
  ['an http: address', { verification_uri: 'http://microsoft.com/devicelogin' }, /not an https address/],
  ['user-info disguising the host', { verification_uri: 'https://microsoft.com@evil.example/' }, /user name before the host.*evil\.example/],
  ['user and password before the host', { verification_uri: 'https://login:pw@evil.example/' }, /user name before the host/],
  ['a javascript: address', { verification_uri: 'javascript:alert(1)' }, /not an https address/],
  ['a data: address', { verification_uri: 'data:text/html,<h1>hi' }, /spaces, control|not an https/],
  ['a file: address', { verification_uri: 'file:///etc/passwd' }, /not an https address/],
  ['an address of 5,000 characters', { verification_uri: `https://microsoft.com/${'a'.repeat(5000)}` }, /longer than 200/],
  ['an address with a newline', { verification_uri: 'https://microsoft.com/\ndevicelogin' }, /control or non-ASCII/],
  ['an address with an ESC sequence', { verification_uri: 'https://microsoft.com/\u001b[2Jdevicelogin' }, /control or non-ASCII/],
  ['an address with a space', { verification_uri: 'https://microsoft.com/device login' }, /spaces/],
  ['an address in Cyrillic look-alikes', { verification_uri: 'https://micrоsoft.com/devicelogin' }, /non-ASCII/],
  ['an address that is not a URL', { verification_uri: 'devicelogin' }, /not a URL/],
  ['no address', { verification_uri: undefined }, /missing/],
  ['an address that is a number', { verification_uri: 42 }, /missing/],
  ['a user code of 200 characters', { user_code: 'A'.repeat(200) }, /user_code/],
  ['a user code with an ESC sequence', { user_code: 'AB\u001b[31mCD' }, /user_code/],
  ['a user code with HTML', { user_code: '<b>ABCD</b>' }, /user_code/],
  ['an empty user code', { user_code: '' }, /user_code/],
  ['a user code that is an object', { user_code: { a: 1 } }, /user_code/],
  ['expires_in of zero', { expires_in: 0 }, /expires_in/],
  ['a negative expires_in', { expires_in: -5 }, /expires_in/],
  ['expires_in as text', { expires_in: 'soon' }, /expires_in/],
  ['an interval longer than the code lives', { interval: 1000, expires_in: 900 }, /interval 1000 s is longer than the code's lifetime/],
  ['an interval of 2,147,484 s (past Node\'s timer limit) on a 15-minute code', { interval: 2_147_484 }, /longer than the code's lifetime/],
];

/** Clamped, and shown: the change, and the interval or lifetime used. */
export const CLAMPED: Array<[string, Record<string, unknown>, { interval?: number; expiresIn?: number }]> = [
  ['an interval of 2,147,484 s on a day-long code: polled every minute, not every millisecond', { interval: 2_147_484, expires_in: 86_400 * 30 }, { interval: MAX_POLL_INTERVAL_SEC, expiresIn: MAX_CODE_LIFETIME_SEC }],
  ['an interval of 1e300', { interval: 1e300, expires_in: 1e301 }, { interval: MAX_POLL_INTERVAL_SEC }],
  ['an interval of 0', { interval: 0 }, { interval: 1 }],
  ['a negative interval', { interval: -3 }, { interval: 1 }],
  ['an interval as text', { interval: '5' }, { interval: 5 }],
  ['no interval', { interval: undefined }, { interval: 5 }],
  ['expires_in of 1e13 (a Date out of range)', { expires_in: 1e13 }, { expiresIn: MAX_CODE_LIFETIME_SEC }],
];
