// Positive control for the tracer search the card-form browser tests rely on: each form a
// leaked card number could take is found, and a sealed-looking body is clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findTracer } from './lib/leak.mjs';

const PAN = '4242424242424242';

test('findTracer finds the PAN in every encoding a request could carry', () => {
  const cases = {
    plainOrSeparated: [`{"n":"${PAN}"}`, 'x 4242 4242-4242.4242 y'],
    jsonEscaped: ['\\u0034\\u0032\\u0034\\u0032' + PAN.slice(4)],
    urlEncoded: ['n=%34%32%34%32+4242+4242+4242'],
    utf16: [Buffer.from(PAN, 'utf16le').toString('latin1')],
    hex: [Buffer.from(PAN).toString('hex')],
    base64: [0, 1, 2].map((pad) => Buffer.from('x'.repeat(pad) + PAN + 'tail').toString('base64')),
  };
  for (const [form, texts] of Object.entries(cases)) {
    for (const text of texts) assert.ok(findTracer(text, PAN).includes(form), `${form}: ${text}`);
  }
});

test('findTracer is quiet on a sealed envelope', () => {
  const sealed = JSON.stringify({ sealed: { version: 1, kid: 'vault-1', enc: 'h3Q8JXk0_rT6uO1m2NvGzR5aYwL9cD7eF4sB0iK2pQ', ciphertext: 'kX9aL2mN4pQ6rS8tU0vW2xY4zA6bC8dE0fG2hI4jK6lM8nO0pQ2rS4tU6vW8xY0zA' } });
  assert.deepEqual(findTracer(sealed, PAN), []);
  assert.deepEqual(findTracer('', PAN), []);
});
