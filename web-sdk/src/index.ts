/**
 * @hushpay/web — the Hushpay browser SDK.
 *
 * `CardForm` embeds Hushpay's isolated card iframe: the patient types the card into inputs
 * served from the gateway's own origin, WebAssembly validates and seals it with HPKE to the
 * vault, and this page only ever learns field states and the resulting token, brand and
 * last 4. See docs/card-form.md.
 */
export { CardForm } from './card/card-form';
export type { CardFormEvents } from './card/card-form';
export { CardFormError } from './card/options';
export type { CardFormOptions } from './card/options';
export type { CardResult, ErrorInfo, FieldName, FieldState } from './card/protocol';
export { ALLOWED_PROPERTIES, ALLOWED_PSEUDOS, compileStyle } from './card/style';
export type { CardStyle, StyleProperties } from './card/style';
