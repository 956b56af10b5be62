/**
 * @hushpay/web — the Hushpay browser SDK.
 *
 * - `CardForm` embeds Hushpay's isolated card iframe: the patient types the card into inputs
 *   served from the gateway's own origin, WebAssembly validates and seals it with HPKE to the
 *   vault, and this page only ever learns field states and the resulting token, brand and
 *   last 4. See docs/card-form.md.
 * - `Call` joins a room with an access token: voice, mute, chat, and the patient's side of
 *   payment prompts (`paymentRequested`, `paymentLink`, `sendDigits`).
 * - `AgentSession` joins as an agent and asks for payments by keypad, card form or link,
 *   with live masked progress and the result. See docs/web-sdk.md.
 */
export { CardForm } from './card/card-form';
export type { CardFormEvents } from './card/card-form';
export { CardFormError } from './card/options';
export type { CardFormOptions } from './card/options';
export type { CardResult, ErrorInfo, FieldName, FieldState } from './card/protocol';
export { ALLOWED_PROPERTIES, ALLOWED_PSEUDOS, compileStyle } from './card/style';
export type { CardStyle, StyleProperties } from './card/style';
export { Call, CallError, rtcUrl } from './rtc/call';
export type { CallEvents, CallOptions, ChatMessage, PaymentLink } from './rtc/call';
export { AgentSession } from './rtc/agent-session';
export type { AgentSessionEvents, AgentSessionOptions } from './rtc/agent-session';
export { PaymentApiError, PaymentClient, PaymentTracker } from './rtc/payments';
export type { CreatedPayment, PaymentField, PaymentMethod, PaymentRequest } from './rtc/payments';
export { TERMINAL_STATES } from './rtc/messages';
export type { ChatSender, FieldStatus, IceServer, ParticipantInfo, PatientPayment, Payment, PaymentEnd } from './rtc/messages';
export { Signalling } from './rtc/signalling';
export type { SignallingState, SocketLike } from './rtc/signalling';
export { formatMinor, parseMajor } from './pages/money';
