/**
 * The strings patients and agents read, one typed catalogue per language. `Catalogue` is the
 * contract: a language file that misses a string (or has a stray one) does not type-check.
 * Adding a language is adding its file (`fr.ts`, copying `en.ts`) and its line in
 * `CATALOGUES` below and in `CARD_FRAME_STRINGS` (card-frame.ts, the iframe's own table);
 * the gateway's list of locales (`hushpay_vault::payment::locale`) and IVR prompts
 * (`prompts/<code>`) name the same languages.
 */
import { en } from './en';
import { es } from './es';
import { primaryLanguage } from './language';

export interface CardFrameStrings {
  /** The iframe's accessible title (on the host page). */
  frameTitle: string;
  /** The iframe's document title and the form's legend. */
  title: string;
  labels: { number: string; expiry: string; cvc: string; postalCode: string };
  placeholders: { expiry: string; cvc: string; postalCode: string };
  expiryHint: string;
  cvcHint: string;
  /** Shown under a field as the patient types or leaves it. */
  fieldErrors: Record<'number' | 'expiry' | 'cvc' | 'postalCode', { incomplete: string; invalid: string }>;
  /** Announced when the detected brand changes (`VISA card`). */
  brandCard: (brand: string) => string;
  submitting: string;
  /** 3-D Secure: the bank's check shown inside the card form (its frame's title and status). */
  bankCheck: string;
  accepted: string;
  loadFailed: string;
  notReady: string;
  alreadySubmitted: string;
  inProgress: string;
  submitFailed: string;
  sealFailed: string;
  notAccepted: string;
  checkCard: string;
  unreachable: string;
  unexpected: string;
}

export interface PayPageStrings {
  /** `Pay $42.00`: the heading, the button and the document title. */
  pay: string;
  reference: string;
  loading: string;
  note: string;
  /** `This link works until 8 December 2026, 14:05.` */
  expires: (when: string) => string;
  incompleteLink: string;
  enterCard: string;
  paying: string;
  declined: (brand: string, last4: string) => string;
  paid: (amount: string, brand: string, last4: string) => string;
  failed: string;
}

/** The agent console (web-sdk/src/console): the agent's language, not the patient's. */
export interface ConsoleStrings {
  /** The page's title and heading. */
  title: string;
  signedOut: string;
  signIn: string;
  tokenLabel: string;
  tokenHint: string;
  joinCall: string;
  participants: string;
  mute: string;
  unmute: string;
  leaveCall: string;
  pauseRecording: string;
  resumeRecording: string;
  call: string;
  callIn: (room: string) => string;
  extendSession: string;
  freshTokenLabel: string;
  freshTokenHint: string;
  chat: string;
  chatMessages: string;
  message: string;
  send: string;
  requestTitle: string;
  method: string;
  methods: { keypad: string; 'card-form': string; link: string };
  amount: string;
  currency: string;
  reference: string;
  referenceHint: string;
  /** The patient's language: the payment's `locale`. */
  patientLanguage: string;
  /** The first choice: the payment names no locale and takes the organisation's default. */
  tenantDefaultLanguage: string;
  requestPayment: string;
  payment: string;
  paymentOf: (title: string) => string;
  fieldProgress: string;
  waitingForDesktop: string;
  notAToken: string;
  otherTenant: string;
  joining: string;
  inCallAs: (identity: string) => string;
  couldNotJoin: (why: string) => string;
  joined: (who: string) => string;
  participantLeft: string;
  connected: string;
  linkSent: (reference: string, url: string) => string;
  sessionEnds: (seconds: number) => string;
  leftCall: (reason: string) => string;
  sessionExtended: string;
  couldNotExtend: (why: string) => string;
  recordingPaused: (why: string) => string;
  recording: string;
  pauseReasons: { payment: string; manual: string; consent: string };
  mutedSuffix: string;
  waitingForPatient: string;
  micMuted: string;
  micOn: string;
  chooseMethod: string;
  badCurrency: string;
  badAmount: string;
  needReference: string;
  requested: string;
  noPatient: string;
  refused: (message: string, code: string) => string;
  askFor: (field: string) => string;
  askAgainFor: (field: string) => string;
  complete: string;
  cancel: string;
  /** What describe.ts puts into words. */
  fields: Record<'payment-card-number' | 'expiration-date' | 'security-code' | 'postal-code', string>;
  states: Record<'requested' | 'collecting' | 'ready' | 'authorizing' | 'succeeded' | 'failed' | 'cancelled' | 'expired'
    | 'authorized' | 'capturing' | 'captured' | 'voiding' | 'voided' | 'authenticating', string>;
  notAskedYet: string;
  waitingForKeys: string;
  digits: (n: number) => string;
  captured: string;
  capturedDigits: (n: number) => string;
  valid: string;
  notValidYet: string;
  failedAttempts: (n: number, of: number) => string;
  cardEnding: (brand: string, last4: string, expires: string, token: string) => string;
  noCard: string;
  authorization: (code: string) => string;
}

export interface Catalogue {
  /** The language's code (the primary subtag of a locale). */
  code: string;
  /** The language's name in itself (`English`, `Español`), for pickers. */
  name: string;
  cardFrame: CardFrameStrings;
  payPage: PayPageStrings;
  console: ConsoleStrings;
}

/** Every language with strings, the default first. */
export const CATALOGUES: readonly Catalogue[] = [en, es];

/** The catalogue of a BCP 47 locale (`es-US` → Spanish) by its primary subtag; English for
 * a missing or unknown one. */
export function catalogue(locale: string | undefined | null): Catalogue {
  const primary = primaryLanguage(locale);
  return CATALOGUES.find((c) => c.code === primary) ?? en;
}

/** The locale to format numbers and dates in: the given tag if the browser knows it. */
export function formatLocale(locale: string | undefined | null): string {
  try {
    return Intl.getCanonicalLocales(locale || 'en')[0] ?? 'en';
  } catch {
    return 'en';
  }
}
