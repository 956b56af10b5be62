// node --test examples/webhook-receiver/
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { verify } from './receiver.mjs';

// The Standard Webhooks specification's test vector.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const headers = {
  'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  'webhook-timestamp': '1614265330',
  'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const body = '{"test": 2432232314}';

test('accepts the reference vector', () => {
  assert.deepEqual(verify(secret, headers, body, 1614265330), { test: 2432232314 });
});

test('refuses a changed body, id or signature', () => {
  assert.throws(() => verify(secret, headers, '{"test": 1}', 1614265330), /signature/);
  assert.throws(
    () => verify(secret, { ...headers, 'webhook-id': 'msg_x' }, body, 1614265330),
    /signature/,
  );
  assert.throws(
    () => verify(secret, { ...headers, 'webhook-signature': 'v1,AAAA' }, body, 1614265330),
    /signature/,
  );
  assert.throws(() => verify('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', headers, body, 1614265330), /signature/);
});

test('refuses stale or malformed timestamps and missing headers', () => {
  assert.throws(() => verify(secret, headers, body, 1614265330 + 301), /tolerance/);
  assert.throws(() => verify(secret, { ...headers, 'webhook-timestamp': '1e9' }, body, 1614265330), /malformed/);
  assert.throws(() => verify(secret, {}, body), /missing/);
});

test('accepts one valid signature among several', () => {
  const h = { ...headers, 'webhook-signature': `v1,bogus ${headers['webhook-signature']}` };
  assert.ok(verify(secret, h, body, 1614265330));
});
