/** Checking and normalising `CardForm` options (pure, unit-tested). */
import { compileStyle } from './style';
import type { CardStyle } from './style';
import { cardFrameStrings } from '../i18n/card-frame';

export interface CardFormOptions {
  /** The gateway's widget origin, e.g. `https://elements.pay.example` (development:
   *  `http://localhost:8080` when the gateway is at `http://127.0.0.1:8080`). */
  widgetOrigin: string;
  /** The tenant id (`ten_...`); the page's origin must be in its allowed origins. */
  tenant: string;
  /** From `POST /v1/payments` (method `card-form`) on the tenant's backend. */
  payment: { id: string; clientSecret: string };
  style?: CardStyle;
  /** Show and require the postal-code field (default true). */
  postalCode?: boolean;
  /** The iframe's accessible title. */
  title?: string;
  /** How long to wait for the iframe to become ready before an `error` event (ms). */
  loadTimeoutMs?: number;
  /** The patient's language, BCP 47 (`es`, `es-US`): the payment's `locale`. The iframe's
   *  labels, errors and title are in it (English when absent or not supported). */
  locale?: string;
}

export class CardFormError extends Error {
  constructor(readonly code: string, message: string, readonly field?: string) {
    super(message);
    this.name = 'CardFormError';
  }
}

/** Throws a `CardFormError` (code `invalid_options`) for anything a developer got wrong. */
export function checkOptions(o: CardFormOptions): Required<Omit<CardFormOptions, 'style'>> & { style?: CardStyle } {
  const bad = (message: string) => new CardFormError('invalid_options', message);
  let url: URL;
  try {
    url = new URL(o.widgetOrigin);
  } catch {
    throw bad('widgetOrigin must be an origin such as https://elements.pay.example');
  }
  if (url.origin !== o.widgetOrigin || !/^https?:$/.test(url.protocol)) {
    throw bad('widgetOrigin must be exactly scheme://host[:port], without a path or trailing slash');
  }
  if (!/^ten_[A-Za-z0-9]{1,60}$/.test(o.tenant ?? '')) throw bad('tenant must be a tenant id (ten_...)');
  if (!o.payment || !/^[A-Za-z0-9_-]{1,128}$/.test(o.payment.id ?? '') || !/^[A-Za-z0-9_-]{1,256}$/.test(o.payment.clientSecret ?? '')) {
    throw bad('payment must be { id, clientSecret } from POST /v1/payments');
  }
  if (o.locale !== undefined && !/^[A-Za-z]{2,3}(-[A-Za-z]{2}|-[0-9]{3})?$/.test(o.locale)) {
    throw bad('locale must be a BCP 47 language tag such as es or es-US');
  }
  const { errors } = compileStyle(o.style);
  if (errors.length) throw bad(`style: ${errors.join('; ')}`);
  return {
    widgetOrigin: o.widgetOrigin,
    tenant: o.tenant,
    payment: { id: o.payment.id, clientSecret: o.payment.clientSecret },
    ...(o.style ? { style: o.style } : {}),
    postalCode: o.postalCode !== false,
    title: o.title ?? cardFrameStrings(o.locale).frameTitle,
    loadTimeoutMs: o.loadTimeoutMs ?? 15000,
    locale: o.locale ?? '',
  };
}

/** The iframe's URL: the widget page for this tenant and this page's exact origin (and the
 * patient's language, when given). */
export function frameUrl(widgetOrigin: string, tenant: string, parentOrigin: string, locale = ''): string {
  const q = new URLSearchParams({ tenant, origin: parentOrigin });
  if (locale) q.set('locale', locale);
  return `${widgetOrigin}/elements/v1/card?${q.toString()}`;
}
