/**
 * The card form's styling API: a safe subset of CSS, by variant and pseudo-class.
 *
 * ```ts
 * style: {
 *   base:     { color: '#1a1a2e', fontSize: '16px', '::placeholder': { color: '#8a8aa0' }, ':focus': { borderColor: '#3b5bdb' } },
 *   complete: { color: '#2b8a3e' },
 *   empty:    {},
 *   invalid:  { color: '#c92a2a', borderColor: '#c92a2a' },
 *   label:    { fontWeight: '600' },
 * }
 * ```
 *
 * Variants follow Stripe Elements (`base`, `complete`, `empty`, `invalid`) plus `label`.
 * Only the properties in {@link ALLOWED_PROPERTIES} are accepted, values are plain tokens
 * (no `url()`, `var()`, `expression()`, `@`, braces, semicolons, backslashes or comments),
 * and pseudo-classes come from {@link ALLOWED_PSEUDOS}. The same validator runs in the SDK
 * (to tell the developer at once) and in the iframe (which trusts nothing it receives).
 */

export type StyleProperties = { [property: string]: string | StyleProperties };
export interface CardStyle {
  base?: StyleProperties;
  complete?: StyleProperties;
  empty?: StyleProperties;
  invalid?: StyleProperties;
  label?: StyleProperties;
}

export const ALLOWED_PROPERTIES: readonly string[] = [
  'backgroundColor', 'borderColor', 'borderRadius', 'borderStyle', 'borderWidth', 'caretColor',
  'color', 'fontFamily', 'fontSize', 'fontStyle', 'fontVariant', 'fontWeight', 'letterSpacing',
  'lineHeight', 'padding', 'textAlign', 'textDecoration', 'textShadow', 'textTransform',
];

export const ALLOWED_PSEUDOS: readonly string[] = [
  ':hover', ':focus', ':disabled', '::placeholder', '::selection', ':-webkit-autofill',
];

const VARIANT_SELECTORS: Record<keyof CardStyle, string> = {
  base: 'input',
  complete: 'input.hp-complete',
  empty: 'input.hp-empty',
  invalid: 'input.hp-invalid',
  label: 'label',
};

const MAX_VALUE = 120;
/** Letters, digits, space, `#`, `%`, `.`, `,`, `-`, `+`, quotes (font names) and parentheses. */
const VALUE_CHARS = /^[A-Za-z0-9 #%.,'"()+-]*$/;
/** The only functions a value may call. */
const FUNCTION = /([A-Za-z-]*)\(/g;
const ALLOWED_FUNCTIONS = new Set(['rgb', 'rgba', 'hsl', 'hsla']);

export interface StyleResult {
  css: string;
  errors: string[];
}

function kebab(property: string): string {
  return property.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function validValue(value: string): boolean {
  if (value.length > MAX_VALUE || !VALUE_CHARS.test(value)) return false;
  for (const m of value.matchAll(FUNCTION)) {
    if (!ALLOWED_FUNCTIONS.has((m[1] ?? '').toLowerCase())) return false;
  }
  const opens = (value.match(/\(/g) ?? []).length;
  const closes = (value.match(/\)/g) ?? []).length;
  return opens === closes;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function declarations(props: Record<string, unknown>, where: string, errors: string[]): string {
  const out: string[] = [];
  for (const [prop, value] of Object.entries(props)) {
    if (prop.startsWith(':')) continue;
    if (!ALLOWED_PROPERTIES.includes(prop)) {
      errors.push(`${where}: property "${prop}" is not allowed`);
    } else if (typeof value !== 'string' || !validValue(value)) {
      errors.push(`${where}: value of "${prop}" is not allowed`);
    } else {
      out.push(`${kebab(prop)}:${value}`);
    }
  }
  return out.join(';');
}

/**
 * Validates `style` and turns it into CSS for the iframe. Invalid entries are left out and
 * reported in `errors`; the result never contains anything but allowed declarations.
 */
export function compileStyle(style: unknown): StyleResult {
  const errors: string[] = [];
  const rules: string[] = [];
  if (style === undefined || style === null) return { css: '', errors };
  if (!isPlainObject(style)) return { css: '', errors: ['style must be an object'] };
  for (const [variant, props] of Object.entries(style)) {
    const selector = VARIANT_SELECTORS[variant as keyof CardStyle];
    if (selector === undefined || !Object.prototype.hasOwnProperty.call(VARIANT_SELECTORS, variant)) {
      errors.push(`unknown style variant "${variant}"`);
      continue;
    }
    if (!isPlainObject(props)) {
      errors.push(`${variant} must be an object`);
      continue;
    }
    const own = declarations(props, variant, errors);
    if (own) rules.push(`${selector}{${own}}`);
    for (const [key, nested] of Object.entries(props)) {
      if (!key.startsWith(':')) continue;
      if (!ALLOWED_PSEUDOS.includes(key)) {
        errors.push(`${variant}: pseudo-class "${key}" is not allowed`);
      } else if (!isPlainObject(nested)) {
        errors.push(`${variant}${key} must be an object`);
      } else {
        const body = declarations(nested, `${variant}${key}`, errors);
        if (body) rules.push(`${selector}${key}{${body}}`);
      }
    }
  }
  return { css: rules.join('\n'), errors };
}
