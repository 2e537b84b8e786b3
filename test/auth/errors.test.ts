import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '@azure/msal-node';
import { classifySignInError, describe, serverText } from '../../src/auth/errors.js';

const JWT = 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

test('a token echoed in an identity error is redacted in the reason, the description and describe()', () => {
  const text = `invalid_grant: AADSTS50173: token Bearer ${JWT} was revoked.\r\nTrace ID: 0f5e6b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b`;
  const fields = serverText(text);
  assert.equal(fields.reason, 'invalid_grant: AADSTS50173: token Bearer [redacted] was revoked.');
  assert.equal(fields.aadsts, 50173);
  assert.equal(fields.trace_id, '0f5e6b1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b');
  assert.ok(!describe(new AuthError('invalid_grant', `saw ${JWT}`)).includes(JWT));

  const err = new AuthError('invalid_client', 'invalid_client');
  const failure = classifySignInError(err, { error: 'invalid_client', codes: [], description: `client sent ${JWT}`, at: 0 });
  assert.equal(failure.detail, 'invalid_client: client sent [redacted]');
});
