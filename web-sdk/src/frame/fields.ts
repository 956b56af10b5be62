/**
 * The four inputs of the card iframe: formatting and validation as the patient types (all
 * in wasm), the `hp-empty` / `hp-complete` / `hp-invalid` classes the styling API targets,
 * ARIA state and error text. Values stay in the inputs; callers get states only.
 */

import * as wasm from 'hushpay-wasm-glue';
import type { FieldName, FieldState } from '../card/protocol';
import { enCardFrame } from '../i18n/en';
import { caretAfter, significantBefore } from './caret';

interface WasmView {
  empty: boolean;
  complete: boolean;
  valid: boolean;
  potentiallyValid: boolean;
  brand?: string;
  maxLength: number;
  formatted: string;
}

/** The error texts of each field, in the page's language (`en` by default). */
type Messages = Record<FieldName, { incomplete: string; invalid: string }>;

/** Today's month from the browser's clock (the wasm reads none). */
export function today(): { year: number; month: number } {
  const d = new Date();
  return { year: d.getFullYear(), month: d.getMonth() + 1 };
}

export class Fields {
  readonly inputs: Record<FieldName, HTMLInputElement>;
  private brand = '';
  private views = new Map<FieldName, WasmView>();
  postalCodeEnabled = true;

  constructor(
    doc: Document,
    private readonly onState: (s: FieldState) => void,
    /** Told when the detected brand changes (the brand mark itself is `aria-hidden`). */
    private readonly onBrand: (brand: string) => void = () => {},
    private readonly messages: Messages = enCardFrame.fieldErrors,
  ) {
    const get = (id: FieldName) => doc.getElementById(id) as HTMLInputElement;
    this.inputs = { number: get('number'), expiry: get('expiry'), cvc: get('cvc'), postalCode: get('postalCode') };
    for (const name of Object.keys(this.inputs) as FieldName[]) {
      const input = this.inputs[name];
      input.addEventListener('input', (e) => this.edited(name, (e as InputEvent).inputType ?? ''));
      input.addEventListener('blur', () => this.report(name, true));
      this.setClasses(name, this.view(name, false));
    }
  }

  /** The current wasm view of a field (recomputed; never cached across edits of others). */
  private view(name: FieldName, growing: boolean): WasmView {
    const value = this.inputs[name].value;
    const { year, month } = today();
    const json = name === 'number' ? wasm.numberState(value)
      : name === 'expiry' ? wasm.expiryState(value, year, month, growing)
      : name === 'cvc' ? wasm.cvcState(value, this.brand)
      : wasm.postalCodeState(value);
    return JSON.parse(json) as WasmView;
  }

  private edited(name: FieldName, inputType: string): void {
    const input = this.inputs[name];
    const growing = inputType.startsWith('insert');
    const before = significantBefore(input.value, input.selectionStart ?? input.value.length);
    const view = this.view(name, growing);
    if (input.value !== view.formatted) {
      input.value = view.formatted;
      const caret = caretAfter(view.formatted, before);
      if (document.activeElement === input) input.setSelectionRange(caret, caret);
    }
    if (name === 'number' && (view.brand ?? '') !== this.brand) {
      this.brand = view.brand ?? '';
      const brandEl = input.ownerDocument.getElementById('brand');
      if (brandEl) brandEl.textContent = this.brand ? this.brand.toUpperCase() : '';
      this.onBrand(this.brand);
      if (this.inputs.cvc.value) this.report('cvc', false);
    }
    this.views.set(name, view);
    this.report(name, false);
    // Move on when a field is finished, as patients expect from card forms.
    if (growing && view.complete && input.value.length >= (input.selectionStart ?? 0)) this.advance(name);
  }

  private advance(from: FieldName): void {
    const order: FieldName[] = ['number', 'expiry', 'cvc', 'postalCode'];
    const next = order[order.indexOf(from) + 1];
    if (next && (next !== 'postalCode' || this.postalCodeEnabled)) this.inputs[next].focus();
  }

  /** Recompute, restyle and tell the parent. `leaving` shows errors for unfinished input. */
  report(name: FieldName, leaving: boolean): FieldState {
    const view = this.view(name, false);
    this.views.set(name, view);
    const showError = !view.potentiallyValid || (leaving && !view.empty && !view.complete);
    const error = showError
      ? { code: view.potentiallyValid ? `incomplete_${name}` : `invalid_${name}`,
          message: view.potentiallyValid ? this.messages[name].incomplete : this.messages[name].invalid }
      : undefined;
    this.setClasses(name, view, error !== undefined);
    this.showError(name, error?.message ?? '');
    const state: FieldState = {
      field: name, empty: view.empty, complete: view.complete, valid: view.valid,
      potentiallyValid: view.potentiallyValid,
      ...(name === 'number' && view.brand ? { brand: view.brand } : {}),
      ...(error ? { error } : {}),
    };
    this.onState(state);
    return state;
  }

  private setClasses(name: FieldName, view: WasmView, invalid = false): void {
    const input = this.inputs[name];
    input.classList.toggle('hp-empty', view.empty);
    input.classList.toggle('hp-complete', view.complete);
    input.classList.toggle('hp-invalid', invalid);
    input.setAttribute('aria-invalid', String(invalid));
  }

  /** Shows an error under a field (also used for the gateway's answer). */
  showError(name: FieldName, message: string): void {
    const el = this.inputs[name].ownerDocument.getElementById(`${name}-error`);
    if (el) el.textContent = message;
    if (message) {
      this.inputs[name].classList.add('hp-invalid');
      this.inputs[name].setAttribute('aria-invalid', 'true');
    }
  }

  /** Empties every field. */
  clear(): void {
    for (const name of Object.keys(this.inputs) as FieldName[]) {
      this.inputs[name].value = '';
      this.report(name, false);
    }
  }
}
