import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrubSecrets } from '../../src/net/scrub.js';

// Shaped like the real thing: a JWT access token, and an Entra refresh token ("1.A…", dotted parts).
const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ-_x';
const REFRESH = '1.AXkAv4j5cvGGr0GRqy180BHbR1Zm5OuGZadJlKk3qTOzwWd5AL8.AgABAwEAAAApTwJmzXqdR4BN2miheQMYAgDs_wUA9P-kxQY2Bj3sVHzB';

test('a bearer token is redacted, whatever its shape and the case of "Bearer"', () => {
  assert.equal(scrubSecrets('header was Bearer abc.DEF-123_~+/xyz== and more'), 'header was Bearer [redacted] and more');
  assert.equal(scrubSecrets('authorization: bearer opaque-token-value'), 'authorization: Bearer [redacted]');
  assert.equal(scrubSecrets(`{"Authorization":"Bearer ${JWT}"}`), '{"Authorization":"Bearer [redacted]"}');
});

test('a JWT is redacted without a "Bearer" before it, also an unsigned one and inside JSON', () => {
  assert.equal(scrubSecrets(`token=${JWT}; next`), 'token=[redacted]; next');
  assert.equal(scrubSecrets('id eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. end'), 'id [redacted] end');
  assert.equal(scrubSecrets(`"access_token":"${JWT}"`), '"access_token":"[redacted]"');
});

test('a refresh-token-shaped string is redacted, with its dotted parts', () => {
  assert.equal(scrubSecrets(`refresh ${REFRESH} was echoed`), 'refresh [redacted] was echoed');
  assert.equal(scrubSecrets(`0.A${'x'.repeat(60)}`), '[redacted]');
});

test('ordinary server text survives: messages, request ids, UPNs, AADSTS codes, versions', () => {
  const texts = [
    'Access token validation failure. Invalid audience.',
    'AADSTS50173: The provided grant has expired due to it being revoked. Trace ID: 0f5e6b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b',
    'request-id 7b5b1e0c-3c3f-4b8e-9b53-0a4f1d2c3e4f, client-request-id 2f1e0d9c-8b7a-6f5e-4d3c-2b1a0f9e8d7c',
    'Resource not found for the segment "ada.lovelace@contoso.onmicrosoft.com"',
    'version 1.A2 of the API; section 0.Abc; eyJ alone is no JWT',
    `1.A${'x'.repeat(39)}`, // one short of a refresh token: left alone
  ];
  for (const text of texts) assert.equal(scrubSecrets(text), text);
});
