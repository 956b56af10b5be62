// Spanish for the patient (issue 17, point 5): a link payment created through the API with
// `locale: "es"` opens a pay page in Spanish (`<html lang="es">`, Spanish strings, the amount
// and the link's expiry formatted for Spanish with Intl), whose card iframe (mounted by the
// SDK's CardForm with the payment's locale) is in Spanish too: labels, placeholders, field
// errors as the patient types, and the result. Both pass axe (WCAG 2.1 AA). The same link
// reopened answers the 410 page in Spanish. A portal embedding CardForm with `locale: "es-US"`
// gets the same Spanish iframe. The card number is in no request the pages make and not in the
// gateway's logs. English stays the default (the other browser tests, unchanged, check it).
import { test, before, after } from 'node:test';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ARTIFACTS, assert, newPage, startCardEnv, waitForEvent, fillCard } from './lib/card-env.mjs';
import { findTracer } from './lib/leak.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PAN = '4242424242424242';
let env;
before(async () => { env = await startCardEnv(); });
after(async () => { await env?.close(); });

/** axe in one document (the card iframe is checked on its own: `iframes: false`). */
async function axe(frame) {
  await frame.evaluate(axeSource);
  return frame.evaluate(async () => {
    const r = await window.axe.run(document, { iframes: false, runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

async function createLink(key, body) {
  const r = await fetch(`${env.gatewayUrl}/v1/payments`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.apiKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({ method: 'link', mode: 'charge', amount: 425000, currency: 'EUR', reference: 'visita-12', ...body }),
  });
  return { status: r.status, body: await r.json() };
}

/** Waits until `selector`'s text in `frame` matches `re`. */
async function textMatches(frame, selector, re) {
  await frame.waitForFunction(([s, src]) => new RegExp(src).test(document.querySelector(s)?.textContent ?? ''),
    [selector, re.source], { timeout: 15000 }).catch(async (e) => {
    throw new Error(`${selector}: ${JSON.stringify(await frame.locator(selector).textContent())} does not match ${re}: ${e.message}`);
  });
}

test('an unknown locale is refused with a clear error and creates nothing', async () => {
  const r = await createLink('es-bad', { locale: 'tlh' });
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'invalid_locale');
  assert.match(r.body.error.message, /locale/);
  const again = await createLink('es-bad', { locale: 'es' });
  assert.equal(again.status, 201, 'the key was not used up by the refusal');
});

test('the pay page and its card iframe speak Spanish, pass axe, and format for Spanish', async () => {
  const created = await createLink('es-link', { locale: 'es' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.payment.locale, 'es');
  const id = created.body.payment.id;
  const url = `${created.body.link_url.split('#')[0]}#${created.body.client_secret}`;

  const { context, page, seen } = await newPage(env.browser, { bypassCSP: true, locale: 'en-US' });
  const response = await page.goto(url);
  assert.equal(response.status(), 200);
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  // The amount and expiry are formatted for Spanish, not for the browser's en-US.
  const amount = new Intl.NumberFormat('es', { style: 'currency', currency: 'EUR' }).format(4250);
  assert.equal(await page.locator('#amount').textContent(), amount);
  assert.match(amount, /4\.?250,00/);
  assert.equal(await page.locator('#pay-word').textContent(), 'Pagar');
  assert.equal(await page.locator('#reference-label').textContent(), 'Referencia:');
  assert.match(await page.locator('#expires').textContent(), /^Este enlace es válido hasta el \d{1,2} de [a-z]+ de \d{4}/);
  assert.equal(await page.title(), `Pagar ${amount}`);
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('Ingrese los datos'), null, { timeout: 15000 });

  const frame = env.cardFrame(page);
  assert.ok(frame, 'the card iframe');
  assert.match(frame.url(), /[?&]locale=es(&|$)/);
  assert.equal(await frame.getAttribute('html', 'lang'), 'es');
  assert.equal(await frame.locator('label[for="number"]').textContent(), 'Número de tarjeta');
  assert.equal(await frame.locator('label[for="expiry"]').textContent(), 'Fecha de vencimiento');
  assert.equal(await frame.locator('#expiry').getAttribute('placeholder'), 'MM / AA');
  assert.equal(await frame.title(), 'Datos de la tarjeta');
  assert.equal(await page.locator('iframe').getAttribute('title'), 'Formulario seguro de pago con tarjeta');
  assert.deepEqual(await axe(page.mainFrame()), [], 'pay page');
  assert.deepEqual(await axe(frame), [], 'empty Spanish card form');

  // Errors as the patient types, in Spanish, still passing axe.
  // (A Visa number may run to 19 digits: 16 that fail the Luhn check are "incomplete".)
  await frame.locator('#number').pressSequentially('4242424242424241', { delay: 5 });
  await frame.locator('#number').press('Tab');
  await textMatches(frame, '#number-error', /^El número de tarjeta está incompleto\.$/);
  assert.equal(await frame.locator('#number').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(await axe(frame), [], 'Spanish card form with an error');
  await frame.locator('#number').fill('');
  await fillCard(frame, { number: PAN, expiry: '1234', cvc: '737', postalCode: '94107' });
  await page.locator('#pay').click();
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Gracias'), null, { timeout: 15000 });
  assert.equal(await page.locator('#status').textContent(),
    `Gracias: pagó ${amount} con la tarjeta visa terminada en 4242. Puede cerrar esta página.`);
  await page.screenshot({ path: join(ARTIFACTS, 'pay-link-spanish.png') });

  // Used once: the 410 page is in Spanish too.
  const { page: reopened } = await newPage(env.browser);
  const again = await reopened.goto(url);
  assert.equal(again.status(), 410);
  assert.equal(await reopened.getAttribute('html', 'lang'), 'es');
  assert.match(await reopened.locator('#gone').textContent(), /ya se usó/);

  const shown = await fetch(`${env.gatewayUrl}/v1/payments/${id}`, { headers: { Authorization: `Bearer ${env.apiKey}` } });
  assert.equal((await shown.json()).payment.locale, 'es');
  for (const r of seen.requests) assert.deepEqual(findTracer(r.url + r.body, PAN), [], r.url);
  assert.deepEqual(findTracer(seen.console.join('\n'), PAN), [], 'console');
  assert.deepEqual(findTracer(env.gw.logs.stdout + env.gw.logs.stderr, PAN), [], 'gateway logs');
  await context.close();
});

test('a portal embedding CardForm with locale es-US gets the Spanish iframe', async () => {
  const { context, page } = await newPage(env.browser, { bypassCSP: true });
  await page.goto(env.portalUrl(env.portal.origin, { id: 'pay_es', secret: 'pcs_es' }, { locale: 'es-US' }));
  await waitForEvent(page, 'ready');
  const frame = env.cardFrame(page);
  assert.equal(await frame.getAttribute('html', 'lang'), 'es-US');
  assert.equal(await frame.locator('label[for="cvc"]').textContent(), 'Código de seguridad');
  await frame.locator('#cvc').pressSequentially('1', { delay: 5 });
  await frame.locator('#cvc').press('Tab');
  await textMatches(frame, '#cvc-error', /incompleto/);
  assert.deepEqual(await axe(frame), [], 'es-US card form with an error');
  await context.close();
});

test('the agent console speaks the agent\'s language (?lang=es), passes axe, and offers the patient\'s language', async () => {
  const { context, page } = await newPage(env.browser, { bypassCSP: true });
  await page.goto(`${env.gatewayUrl}/console?lang=es`);
  await page.waitForSelector('#join');
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.equal(await page.title(), 'Consola de agente de Hushpay');
  assert.equal(await page.locator('#join').textContent(), 'Unirse a la llamada');
  assert.equal(await page.locator('label[for="token"]').textContent(), 'Token de acceso del agente');
  assert.equal(await page.locator('#status').textContent(), 'Sesión cerrada.');
  const options = await page.locator('#patient-locale option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  assert.deepEqual(options, [['', 'El predeterminado de la organización'], ['en', 'English'], ['es', 'Español']]);
  await page.locator('#token').fill('not-a-token');
  await page.locator('#join').click();
  assert.match(await page.locator('#alert').textContent(), /no es un token de acceso/);
  assert.deepEqual(await axe(page.mainFrame()), [], 'Spanish console');
  // English stays the default for an English browser.
  const { context: enContext, page: en } = await newPage(env.browser, { locale: 'en-US' });
  await en.goto(`${env.gatewayUrl}/console`);
  await en.waitForSelector('#join');
  assert.equal(await en.locator('#join').textContent(), 'Join call');
  await enContext.close();
  await context.close();
});
