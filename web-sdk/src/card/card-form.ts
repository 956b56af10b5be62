/**
 * `CardForm`: the host side of the card iframe. It mounts the iframe (served by the gateway
 * on its widget origin), connects to it over a private `MessageChannel`, relays events, and
 * asks it to submit. It never sees a card number: only field states and, at the end, the
 * token with brand and last 4.
 *
 * ```ts
 * const form = new CardForm({ widgetOrigin, tenant, payment: { id, clientSecret } });
 * form.on('change', (s) => button.disabled = !form.complete);
 * form.mount('#card');
 * const { token, brand, last4 } = await form.submit();
 * ```
 */

import { Emitter } from './emitter';
import { CardFormError, checkOptions, frameUrl } from './options';
import type { CardFormOptions } from './options';
import { FIELD_NAMES, PROTOCOL_VERSION, parseFrameMessage } from './protocol';
import type { CardResult, ErrorInfo, FieldName, FieldState, FrameMessage, ParentMessage } from './protocol';

export interface CardFormEvents extends Record<string, unknown> {
  /** The iframe loaded (script and wasm passed integrity) and accepts input. */
  ready: undefined;
  /** A field changed: its state, never its value. */
  change: FieldState;
  focus: { field: FieldName };
  blur: { field: FieldName };
  /** The patient pressed Enter in the form; call `submit()` if you agree. */
  submit: undefined;
  /** Loading failed, the iframe reported a problem, or it never became ready. */
  error: ErrorInfo;
}

interface Pending {
  resolve: (card: CardResult) => void;
  reject: (e: CardFormError) => void;
}

export class CardForm {
  private readonly options: ReturnType<typeof checkOptions>;
  private readonly events = new Emitter<CardFormEvents>();
  private iframe: HTMLIFrameElement | null = null;
  private port: MessagePort | null = null;
  private readyFlag = false;
  private nextRequest = 1;
  private pending = new Map<number, Pending>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly states = new Map<FieldName, FieldState>();

  constructor(options: CardFormOptions) {
    this.options = checkOptions(options);
  }

  on<K extends keyof CardFormEvents>(event: K, handler: (payload: CardFormEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  /** True once the iframe is ready. */
  get ready(): boolean {
    return this.readyFlag;
  }

  /** True when every shown field is complete. */
  get complete(): boolean {
    const shown = FIELD_NAMES.filter((f) => f !== 'postalCode' || this.options.postalCode);
    return shown.every((f) => this.states.get(f)?.complete === true);
  }

  /** The last state of a field. */
  state(field: FieldName): FieldState | undefined {
    return this.states.get(field);
  }

  /** Puts the iframe into `target` (an element or a selector). */
  mount(target: string | HTMLElement): void {
    if (this.iframe) throw new CardFormError('already_mounted', 'this CardForm is already mounted');
    const host = typeof target === 'string' ? document.querySelector<HTMLElement>(target) : target;
    if (!host) throw new CardFormError('invalid_options', `mount target ${String(target)} not found`);
    const o = this.options;
    const iframe = document.createElement('iframe');
    iframe.src = frameUrl(o.widgetOrigin, o.tenant, window.location.origin, o.locale);
    iframe.title = o.title;
    iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
    iframe.setAttribute('allow', '');
    iframe.setAttribute('referrerpolicy', 'no-referrer');
    iframe.style.cssText = 'border:0;width:100%;height:230px;display:block;overflow:hidden';
    iframe.addEventListener('load', () => this.connect(iframe));
    this.timer = setTimeout(() => {
      if (!this.readyFlag) this.fail({ code: 'frame_load_timeout', message: 'The secure card form did not load.' });
    }, o.loadTimeoutMs);
    host.appendChild(iframe);
    this.iframe = iframe;
  }

  /** Seals and submits the card inside the iframe; resolves with token, brand and last 4. */
  submit(): Promise<CardResult> {
    if (!this.port || !this.readyFlag) {
      return Promise.reject(new CardFormError('not_ready', 'The card form is not ready.'));
    }
    const requestId = this.nextRequest++;
    return new Promise<CardResult>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post({ type: 'submit', requestId });
    });
  }

  focus(field: FieldName = 'number'): void {
    this.post({ type: 'focus', field });
  }

  clear(): void {
    this.post({ type: 'clear' });
  }

  /** Removes the iframe and closes the channel. */
  destroy(): void {
    clearTimeout(this.timer);
    this.port?.close();
    this.port = null;
    this.iframe?.remove();
    this.iframe = null;
    this.readyFlag = false;
    for (const p of this.pending.values()) p.reject(new CardFormError('destroyed', 'The card form was removed.'));
    this.pending.clear();
    this.events.clear();
  }

  private connect(iframe: HTMLIFrameElement): void {
    if (this.port || !iframe.contentWindow) return;
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.onmessage = (e: MessageEvent) => {
      const msg = parseFrameMessage(e.data);
      if (msg) this.onFrameMessage(msg);
    };
    // The exact widget origin: if anything else is in the frame, the browser drops this.
    iframe.contentWindow.postMessage({ hushpay: 'connect', version: PROTOCOL_VERSION }, this.options.widgetOrigin, [channel.port2]);
    const o = this.options;
    this.post({ type: 'init', payment: o.payment, style: o.style, postalCode: o.postalCode });
  }

  private post(message: ParentMessage): void {
    this.port?.postMessage(message);
  }

  private fail(error: ErrorInfo): void {
    this.events.emit('error', error);
  }

  private onFrameMessage(msg: FrameMessage): void {
    switch (msg.type) {
      case 'ready':
        this.readyFlag = true;
        clearTimeout(this.timer);
        this.events.emit('ready', undefined);
        return;
      case 'change':
        this.states.set(msg.state.field, msg.state);
        this.events.emit('change', msg.state);
        return;
      case 'focus':
      case 'blur':
        this.events.emit(msg.type, { field: msg.field });
        return;
      case 'submit':
        this.events.emit('submit', undefined);
        return;
      case 'resize':
        if (this.iframe) this.iframe.style.height = `${msg.height}px`;
        return;
      case 'error':
        this.fail(msg.error);
        return;
      case 'result': {
        const p = this.pending.get(msg.requestId);
        this.pending.delete(msg.requestId);
        if (!p) return;
        if (msg.ok) p.resolve(msg.card);
        else p.reject(new CardFormError(msg.error.code, msg.error.message, msg.error.field));
        return;
      }
    }
  }
}
