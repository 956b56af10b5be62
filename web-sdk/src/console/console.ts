/**
 * The agent console (served by the gateway at `/console`), built on `AgentSession`:
 * sign in with an agent access token, join the call, hear the patient, chat, ask for a
 * payment by keypad, card form or link, watch the masked progress live and see the result.
 * The token lives in memory only. Everything is reachable from the keyboard; state changes
 * are announced through live regions. The console has no backend of its own: when the
 * gateway warns that the token expires (`tokenExpiring`), it asks the agent to paste a fresh
 * token for the same call and extends the session with it (`refreshToken`); without one the
 * call ends at the token's `exp`.
 *
 * Embedded in an agent desktop (`/console?tenant=ten_...`, framed by one of the tenant's
 * `agent_desktop_origins`), the desktop hands it the token by `postMessage`, is asked for a
 * fresh one before expiry and hears each payment's result (token, brand, last 4): see
 * `./desktop`. Pasting a token keeps working there too.
 */
import { AgentSession } from '../rtc/agent-session';
import { PaymentApiError } from '../rtc/payments';
import type { PaymentField, PaymentMethod } from '../rtc/payments';
import type { Payment } from '../rtc/messages';
import { parseMajor } from '../pages/money';
import { CATALOGUES, catalogue, formatLocale } from '../i18n/catalogue';
import { describePayment, fieldLabel } from './describe';
import { DesktopBridge, readEmbedding, tokenTenant } from './desktop';
import { field, h } from './dom';

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The agent's language: `?lang=` on the console's address (a setting the agent desktop can
 * pass), else the browser's language; English when neither has strings. */
function agentLocale(): string {
  const asked = new URLSearchParams(window.location.search).get('lang');
  return asked || navigator.language || 'en';
}
const catalogueOfAgent = catalogue(agentLocale());
const t = catalogueOfAgent.console;
/** Amounts in the agent's locale when the console speaks it, else as before. */
const numberLocale = catalogueOfAgent.code === 'en' ? undefined : formatLocale(agentLocale());
document.documentElement.lang = catalogueOfAgent.code === 'en' ? document.documentElement.lang : formatLocale(agentLocale());

class Console {
  private session: AgentSession | null = null;
  private current: string | null = null;
  private joining = false;
  private readonly desktop: DesktopBridge | null;
  private readonly root = document.getElementById('console') as HTMLElement;
  private readonly status = h('p', { id: 'status', role: 'status', 'aria-live': 'polite', class: 'hp-status' }, t.signedOut);
  private readonly alert = h('p', { id: 'alert', role: 'alert', class: 'hp-alert' });
  private readonly audio = h('audio', { id: 'remote-audio', autoplay: true });

  // Sign in
  private readonly token = h('textarea', { rows: '3', autocomplete: 'off', spellcheck: 'false', required: true });
  private readonly signin = h('form', { id: 'signin', 'aria-labelledby': 'signin-title' },
    h('h2', { id: 'signin-title' }, t.signIn),
    field('token', t.tokenLabel, this.token, t.tokenHint),
    h('button', { type: 'submit', id: 'join' }, t.joinCall));

  // Call
  private readonly participants = h('ul', { id: 'participants', 'aria-label': t.participants });
  private readonly mute = h('button', { type: 'button', id: 'mute', 'aria-pressed': 'false' }, t.mute);
  private readonly leave = h('button', { type: 'button', id: 'leave' }, t.leaveCall);
  private readonly recState = h('p', { id: 'recording-state', role: 'status', 'aria-live': 'polite' });
  private readonly recToggle = h('button', { type: 'button', id: 'recording-toggle', 'aria-pressed': 'false', hidden: true }, t.pauseRecording);
  private readonly callTitle = h('h2', { id: 'call-title', tabindex: '-1' }, t.call);
  private readonly call = h('section', { id: 'call', 'aria-labelledby': 'call-title', hidden: true },
    this.callTitle, this.participants, h('div', { class: 'hp-row' }, this.mute, this.leave),
    h('div', { class: 'hp-row' }, this.recState, this.recToggle), this.audio);

  // Session renewal (shown when the token is about to expire)
  private readonly renewToken = h('textarea', { rows: '3', autocomplete: 'off', spellcheck: 'false', required: true });
  private readonly renewTitle = h('h2', { id: 'renew-title', tabindex: '-1' }, t.extendSession);
  private readonly renew = h('form', { id: 'renew', 'aria-labelledby': 'renew-title', hidden: true },
    this.renewTitle,
    field('renew-token', t.freshTokenLabel, this.renewToken, t.freshTokenHint),
    h('button', { type: 'submit', id: 'renew-submit' }, t.extendSession));

  // Chat
  private readonly chatLog = h('ol', { id: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': t.chatMessages });
  private readonly chatInput = h('input', { type: 'text', autocomplete: 'off', maxlength: '2000' });
  private readonly chat = h('form', { id: 'chat', 'aria-labelledby': 'chat-title', hidden: true },
    h('h2', { id: 'chat-title' }, t.chat), this.chatLog,
    field('chat-input', t.message, this.chatInput), h('button', { type: 'submit' }, t.send));

  // Payment request
  private readonly amount = h('input', { type: 'text', inputmode: 'decimal', value: '42.00', required: true });
  private readonly currency = h('input', { type: 'text', value: 'USD', maxlength: '3', required: true, autocapitalize: 'characters' });
  private readonly reference = h('input', { type: 'text', value: '', maxlength: '128', required: true });
  /** The payment's `locale`: the language the patient hears and reads (the IVR, card form,
   * pay page), each language named in itself. */
  private readonly patientLocale = h('select', {},
    h('option', { value: '' }, t.tenantDefaultLanguage),
    ...CATALOGUES.map((c) => h('option', { value: c.code }, c.name)));
  private readonly request = h('form', { id: 'request', 'aria-labelledby': 'request-title', hidden: true },
    h('h2', { id: 'request-title' }, t.requestTitle),
    h('fieldset', {}, h('legend', {}, t.method),
      ...(['keypad', 'card-form', 'link'] as const).map((m, i) => h('label', { class: 'hp-radio' },
        h('input', { type: 'radio', name: 'method', value: m, id: `method-${m}`, checked: i === 0 }),
        t.methods[m]))),
    h('div', { class: 'hp-row' }, field('amount', t.amount, this.amount), field('currency', t.currency, this.currency)),
    field('reference', t.reference, this.reference, t.referenceHint),
    field('patient-locale', t.patientLanguage, this.patientLocale),
    h('button', { type: 'submit', id: 'request-payment' }, t.requestPayment));

  // Payment progress
  private readonly payTitle = h('h2', { id: 'payment-title', tabindex: '-1' }, t.payment);
  private readonly payState = h('p', { id: 'payment-state', role: 'status', 'aria-live': 'polite' });
  private readonly payFields = h('ul', { id: 'payment-fields', 'aria-label': t.fieldProgress });
  private readonly payActions = h('div', { id: 'payment-actions', class: 'hp-row' });
  private readonly payResult = h('p', { id: 'payment-result', role: 'status', 'aria-live': 'assertive' });
  private readonly payment = h('section', { id: 'payment', 'aria-labelledby': 'payment-title', hidden: true },
    this.payTitle, this.payState, this.payFields, this.payActions, this.payResult);

  constructor() {
    if (catalogueOfAgent.code !== 'en') {
      document.title = t.title;
      const heading = document.getElementById('console-title');
      if (heading) heading.textContent = t.title;
    }
    this.root.append(this.status, this.alert, this.signin, this.renew, this.call, this.chat, this.request, this.payment);
    this.renew.addEventListener('submit', (e) => { e.preventDefault(); void this.extend(); });
    this.signin.addEventListener('submit', (e) => { e.preventDefault(); void this.join(); });
    this.chat.addEventListener('submit', (e) => { e.preventDefault(); this.sendChat(); });
    this.request.addEventListener('submit', (e) => { e.preventDefault(); void this.requestPayment(); });
    this.mute.addEventListener('click', () => this.toggleMute());
    this.leave.addEventListener('click', () => this.session?.leave());
    this.recToggle.addEventListener('click', () => this.toggleRecording());
    const embedding = readEmbedding(document.documentElement);
    this.desktop = embedding ? new DesktopBridge(window, embedding, (t) => this.fromDesktop(t)) : null;
    if (this.desktop?.active) {
      this.say(t.waitingForDesktop);
      this.desktop.start();
    }
    this.token.focus();
  }

  /** A token from the desktop: sign in with it, or extend the call with it. */
  private fromDesktop(token: string): void {
    if (this.session) void this.extend(token);
    else if (!this.joining) void this.join(token);
  }

  private say(text: string): void {
    this.status.textContent = text;
  }

  private fail(text: string): void {
    this.alert.textContent = text;
  }

  private async join(fromDesktop?: string): Promise<void> {
    const token = fromDesktop ?? this.token.value.trim();
    this.fail('');
    if (!JWT.test(token)) {
      this.fail(t.notAToken);
      this.token.focus();
      return;
    }
    const embedded = readEmbedding(document.documentElement);
    if (embedded && tokenTenant(token) !== embedded.tenant) {
      this.fail(t.otherTenant);
      this.token.focus();
      return;
    }
    const button = this.signin.querySelector('button') as HTMLButtonElement;
    button.disabled = true;
    this.joining = true;
    this.say(t.joining);
    try {
      const session = await AgentSession.join({ url: window.location.origin, token, audioElement: this.audio });
      this.session = session;
      this.token.value = '';
      this.wire(session);
      // The state may have come with `joined`, before the listeners were wired.
      if (session.recordingState) this.renderRecording(session.recordingState.paused, session.recordingState.reasons);
      this.signin.hidden = true;
      for (const s of [this.call, this.chat, this.request]) s.hidden = false;
      this.callTitle.textContent = t.callIn(session.room ?? '');
      this.renderParticipants();
      this.say(t.inCallAs(session.me?.identity ?? 'agent'));
      this.desktop?.joined(session.room);
      this.callTitle.focus();
    } catch (e) {
      this.say(t.signedOut);
      this.fail(t.couldNotJoin((e as Error).message));
      if (fromDesktop) this.desktop?.refused(`could not join: ${(e as Error).message}`);
      this.token.focus();
    } finally {
      button.disabled = false;
      this.joining = false;
    }
  }

  private wire(s: AgentSession): void {
    s.on('participantJoined', (p) => { this.renderParticipants(); this.say(t.joined(`${p.identity} (${p.role})`)); });
    s.on('participantLeft', () => { this.renderParticipants(); this.say(t.participantLeft); });
    s.on('mute', () => this.renderParticipants());
    s.on('remoteAudio', () => this.say(t.connected));
    s.on('chat', (m) => this.addChat(m.id, `${m.from.identity} (${m.from.role})`, m.text, m.redacted));
    s.on('chatRetract', (m) => { const li = document.getElementById(`chat-${m.id}`); if (li) li.lastChild!.textContent = m.text; });
    s.on('paymentLink', (l) => this.addChat(l.id, `${l.from.identity} (${l.from.role})`, t.linkSent(l.payment.reference, l.url), false));
    s.on('payment', (p) => { if (p.id === this.current) this.renderPayment(p); });
    s.on('paymentResult', (p) => {
      this.desktop?.paymentResult(p);
      if (p.id !== this.current) return;
      const d = describePayment(p, t, numberLocale);
      this.payResult.textContent = d.result ?? '';
      this.say(`${d.state}.`);
    });
    s.on('recording', (r) => this.renderRecording(r.paused, r.reasons));
    s.on('error', (e) => this.fail(`${e.message} (${e.code})`));
    s.on('tokenExpiring', (x) => {
      this.desktop?.requestToken(x.expiresIn);
      this.renew.hidden = false;
      this.fail(t.sessionEnds(x.expiresIn));
      this.renewTitle.focus();
    });
    s.on('closed', (c) => {
      for (const sec of [this.call, this.chat, this.request, this.renew]) sec.hidden = true;
      this.signin.hidden = false;
      this.session = null;
      this.say(t.leftCall(c.reason ?? ''));
      this.desktop?.left(c.reason ?? null);
      this.token.focus();
    });
  }

  /** Extends the session with the pasted token (same call, identity and grants). */
  private async extend(fromDesktop?: string): Promise<void> {
    const token = fromDesktop ?? this.renewToken.value.trim();
    if (!this.session) return;
    if (!JWT.test(token)) {
      this.fail(t.notAToken);
      this.renewToken.focus();
      return;
    }
    const button = this.renew.querySelector('button') as HTMLButtonElement;
    button.disabled = true;
    try {
      await this.session.refreshToken(token);
      this.renewToken.value = '';
      this.renew.hidden = true;
      this.fail('');
      this.say(t.sessionExtended);
      this.callTitle.focus();
    } catch (e) {
      this.fail(t.couldNotExtend((e as Error).message));
      if (fromDesktop) this.desktop?.refused(`could not extend the session: ${(e as Error).message}`);
      this.renewToken.focus();
    } finally {
      button.disabled = false;
    }
  }

  /** The recording line and the pause button (shown once the gateway says it records). */
  private renderRecording(paused: boolean, reasons: string[]): void {
    const why = reasons.map((r) => (r.startsWith('payment:') ? t.pauseReasons.payment : r === 'manual' ? t.pauseReasons.manual : r === 'consent' ? t.pauseReasons.consent : r));
    this.recState.textContent = paused ? t.recordingPaused(why.join(', ')) : t.recording;
    const manual = reasons.includes('manual');
    this.recToggle.hidden = false;
    this.recToggle.setAttribute('aria-pressed', String(manual));
    this.recToggle.textContent = manual ? t.resumeRecording : t.pauseRecording;
  }

  private toggleRecording(): void {
    const s = this.session;
    if (!s) return;
    const manual = s.recordingState?.reasons.includes('manual') ?? false;
    s.setRecordingPaused(!manual);
  }

  private renderParticipants(): void {
    const s = this.session;
    if (!s) return;
    this.participants.replaceChildren(...s.participants.map((p) =>
      h('li', {}, `${p.identity} (${p.role})${p.muted ? t.mutedSuffix : ''}`)));
    if (s.participants.length === 0) this.participants.append(h('li', {}, t.waitingForPatient));
  }

  private toggleMute(): void {
    const s = this.session;
    if (!s) return;
    s.setMuted(!s.muted);
    this.mute.setAttribute('aria-pressed', String(s.muted));
    this.mute.textContent = s.muted ? t.unmute : t.mute;
    this.say(s.muted ? t.micMuted : t.micOn);
  }

  private addChat(id: string, who: string, text: string, redacted: boolean): void {
    const li = h('li', { id: `chat-${id}`, class: redacted ? 'hp-redacted' : undefined }, h('strong', {}, `${who}: `), text);
    this.chatLog.append(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  private sendChat(): void {
    const text = this.chatInput.value;
    if (!text.trim()) return;
    try {
      this.session?.sendChat(text);
      this.chatInput.value = '';
    } catch (e) {
      this.fail((e as Error).message);
    }
  }

  private async requestPayment(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.fail('');
    const method = (this.request.querySelector('input[name=method]:checked') as HTMLInputElement | null)?.value as PaymentMethod | undefined;
    const currency = this.currency.value.trim().toUpperCase();
    const amount = parseMajor(this.amount.value, currency);
    if (!method) return this.fail(t.chooseMethod);
    if (!/^[A-Z]{3}$/.test(currency)) { this.currency.focus(); return this.fail(t.badCurrency); }
    if (amount === null) { this.amount.focus(); return this.fail(t.badAmount); }
    if (!this.reference.value.trim()) { this.reference.focus(); return this.fail(t.needReference); }
    const button = this.request.querySelector('button') as HTMLButtonElement;
    button.disabled = true;
    try {
      const locale = this.patientLocale.value;
      const created = await s.requestPayment({ method, amount, currency, reference: this.reference.value.trim(), ...(locale ? { locale } : {}) });
      this.current = created.payment.id;
      this.payment.hidden = false;
      this.payResult.textContent = '';
      this.renderPayment(created.payment);
      const reached = created.offered?.patients ?? 0;
      this.say(reached > 0 ? t.requested : t.noPatient);
      this.payTitle.focus();
    } catch (e) {
      this.fail(e instanceof PaymentApiError ? t.refused(e.message, e.code) : String(e));
    } finally {
      button.disabled = false;
    }
  }

  private renderPayment(p: Payment): void {
    const d = describePayment(p, t, numberLocale);
    this.payTitle.textContent = t.paymentOf(d.title);
    this.payState.textContent = d.state;
    this.payFields.replaceChildren(...d.fields.map((f, i) => h('li', { 'data-field': p.fields[i]?.field }, f)));
    this.payActions.replaceChildren();
    if (d.terminal) {
      this.payResult.textContent = d.result ?? '';
      return;
    }
    if (p.method === 'keypad') {
      for (const f of p.fields) {
        if (f.status === 'collecting') continue;
        const label = fieldLabel(f.field, t);
        const cmd = f.status === 'captured' ? 'reAsk' : 'capture';
        this.payActions.append(this.action(f.status === 'captured' ? t.askAgainFor(label) : t.askFor(label), () => this.session![cmd](p.id, f.field as PaymentField)));
      }
      if (p.state === 'ready') this.payActions.append(this.action(t.complete, () => this.session!.complete(p.id)));
    }
    this.payActions.append(this.action(t.cancel, () => this.session!.cancel(p.id)));
  }

  private action(label: string, run: () => Promise<unknown>): HTMLButtonElement {
    const b = h('button', { type: 'button' }, label);
    b.addEventListener('click', async () => {
      b.disabled = true;
      this.fail('');
      try {
        await run();
      } catch (e) {
        this.fail(e instanceof PaymentApiError ? `${e.message} (${e.code})` : String(e));
        b.disabled = false;
      }
    });
    return b;
  }
}

new Console();
