// A tenant's checkout page: the card form for a payment its backend created, and the
// patient's call. Written only against the published types of @hushpay/web.
import {
  AgentSession,
  Call,
  CardForm,
  CardFormError,
  TERMINAL_STATES,
  formatMinor,
  type CardFormOptions,
  type CardResult,
  type FieldState,
  type Payment,
} from '@hushpay/web';

export interface CreatedByBackend {
  tenant: string;
  paymentId: string;
  clientSecret: string;
  amountMinor: number;
  currency: string;
}

export function cardFormFor(created: CreatedByBackend): CardForm {
  const options: CardFormOptions = {
    widgetOrigin: 'https://elements.pay.example',
    tenant: created.tenant,
    payment: { id: created.paymentId, clientSecret: created.clientSecret },
    postalCode: true,
    title: `Pay ${formatMinor(created.amountMinor, created.currency)}`,
  };
  const form = new CardForm(options);
  form.on('change', (state: FieldState) => {
    document.body.dataset[state.field] = state.complete ? 'complete' : 'incomplete';
  });
  form.on('error', (info) => console.warn('card form:', info.code));
  return form;
}

export async function pay(form: CardForm): Promise<string> {
  try {
    const result: CardResult = await form.submit();
    // Only the token and masked metadata ever reach the page.
    return `${result.brand} •••• ${result.last4} (${result.token})`;
  } catch (e) {
    if (e instanceof CardFormError) return `refused: ${e.code}`;
    throw e;
  }
}

export async function joinAsPatient(url: string, token: string): Promise<Call> {
  const call = await Call.join({ url, token, joinTimeoutMs: 10_000 });
  call.on('paymentRequested', ({ payment }) => console.log('payment asked', payment.id));
  call.on('chat', (message) => console.log(message.from, message.text));
  return call;
}

export async function joinAsAgent(url: string, token: string): Promise<AgentSession> {
  const session = await AgentSession.join({ url, token });
  return session;
}

export function finished(payment: Payment): boolean {
  return TERMINAL_STATES.includes(payment.state);
}

// The declarations are real types, not `any`: each misuse below must be a type error (an
// unused `@ts-expect-error` is itself an error). Never called.
export async function misuses(form: CardForm): Promise<void> {
  // @ts-expect-error a card form needs its options
  new CardForm();
  // @ts-expect-error `submit` resolves with a CardResult, which has no PAN field
  console.log((await form.submit()).pan);
  // @ts-expect-error formatMinor takes minor units as a number
  formatMinor('42', 'USD');
  // @ts-expect-error no such field
  form.state('pan');
}
