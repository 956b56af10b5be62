/**
 * `AgentSession`: an agent in a call, who can ask the patient to pay — by keypad, card form
 * or link — and watch masked progress until the result (token, brand, last 4).
 *
 * ```ts
 * const agent = await AgentSession.join({ url: 'https://pay.example', token: agentJwt });
 * agent.on('payment', (p) => render(p.state, p.fields));          // live, masked
 * agent.on('paymentResult', (p) => done(p.result, p.card?.last4));
 * const { payment } = await agent.requestPayment({ method: 'keypad', amount: 4200, currency: 'USD', reference: 'visit-77' });
 * await agent.capture(payment.id, 'payment-card-number');          // keypad: ask field by field
 * await agent.complete(payment.id);
 * ```
 *
 * Card-form requests reach the patient's `Call` as `paymentRequested` (with the client
 * secret its `CardForm` needs); link requests arrive in the chat as `paymentLink`.
 */
import { Emitter } from '../card/emitter';
import { Call } from './call';
import type { CallEvents, CallOptions } from './call';
import type { Payment } from './messages';
import { PaymentClient, PaymentTracker } from './payments';
import type { CreatedPayment, PaymentField, PaymentRequest } from './payments';

export interface AgentSessionOptions extends CallOptions {
  /** How often open payments are re-read while waiting for pushes (default 1000 ms). */
  pollMs?: number;
}

export interface AgentSessionEvents extends CallEvents {
  /** A payment reached its end: `succeeded` (with `card`), `failed`, `cancelled`, `expired`. */
  paymentResult: Payment;
}

export class AgentSession extends Call {
  readonly client: PaymentClient;
  private readonly tracker: PaymentTracker;
  private readonly results = new Emitter<{ paymentResult: Payment }>();

  protected constructor(options: AgentSessionOptions) {
    super(options);
    this.client = new PaymentClient(options.url, options.token);
    this.tracker = new PaymentTracker((id) => this.client.show(id), options.pollMs ?? 1000);
    this.tracker.events.on('payment', (p) => this.events.emit('payment', p));
    this.tracker.events.on('result', (p) => this.results.emit('paymentResult', p));
    this.on('closed', () => this.tracker.stopAll());
  }

  /** Joins the room named in the agent's token. */
  static override async join(options: AgentSessionOptions): Promise<AgentSession> {
    const session = new AgentSession(options);
    await session.connect();
    return session;
  }

  override on<K extends keyof AgentSessionEvents>(event: K, handler: (payload: AgentSessionEvents[K]) => void): () => void {
    if (event === 'paymentResult') return this.results.on('paymentResult', handler as (p: Payment) => void);
    return super.on(event as keyof CallEvents, handler as (p: CallEvents[keyof CallEvents]) => void);
  }

  /** Payment commands use the refreshed token too. */
  protected override onTokenRefreshed(token: string): void {
    this.client.setToken(token);
  }

  protected override onPayment(p: Payment): void {
    this.tracker.accept(p);
  }

  /** The latest masked document of each payment this session saw. */
  get payments(): Payment[] {
    return this.tracker.all();
  }

  payment(id: string): Payment | undefined {
    return this.tracker.get(id);
  }

  /** Asks the patient to pay; the payment is bound to this agent's room. */
  async requestPayment(request: PaymentRequest): Promise<CreatedPayment> {
    const created = await this.client.create(request);
    this.tracker.accept(created.payment);
    this.tracker.watch(created.payment.id);
    return created;
  }

  /** Keypad: ask the patient to key `field` now. */
  capture(id: string, field: PaymentField): Promise<Payment> {
    return this.run(this.client.command(id, 'capture', field));
  }

  /** Keypad: ask again for a field that was keyed wrong. */
  reAsk(id: string, field: PaymentField): Promise<Payment> {
    return this.run(this.client.command(id, 're-ask', field));
  }

  /** Keypad: all fields captured, authorize now. */
  complete(id: string): Promise<Payment> {
    return this.run(this.client.command(id, 'complete'));
  }

  /**
   * Pauses (`true`) or resumes the room's recording by hand (needs `canRequestPayment`); the
   * new state arrives as the `recording` event. Payments pause it by themselves.
   */
  setRecordingPaused(paused: boolean): void {
    this.signalling.send({ type: 'recording', action: paused ? 'pause' : 'resume' });
  }

  cancel(id: string): Promise<Payment> {
    return this.run(this.client.command(id, 'cancel'));
  }

  private async run(p: Promise<Payment>): Promise<Payment> {
    const doc = await p;
    this.tracker.accept(doc);
    return doc;
  }
}
