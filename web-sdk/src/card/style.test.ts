import { describe, expect, it } from 'vitest';
import { compileStyle } from './style';

describe('compileStyle', () => {
  it('compiles variants and pseudo-classes to scoped rules', () => {
    const { css, errors } = compileStyle({
      base: { color: '#1a1a2e', fontSize: '16px', fontFamily: '"Inter", system-ui, sans-serif',
        '::placeholder': { color: 'rgba(0, 0, 0, 0.5)' }, ':focus': { borderColor: 'hsl(220, 70%, 50%)' } },
      complete: { color: 'green' },
      empty: { backgroundColor: '#fff' },
      invalid: { color: '#c92a2a' },
      label: { fontWeight: '600' },
    });
    expect(errors).toEqual([]);
    expect(css).toContain('input{color:#1a1a2e;font-size:16px;font-family:"Inter", system-ui, sans-serif}');
    expect(css).toContain('input::placeholder{color:rgba(0, 0, 0, 0.5)}');
    expect(css).toContain('input:focus{border-color:hsl(220, 70%, 50%)}');
    expect(css).toContain('input.hp-complete{color:green}');
    expect(css).toContain('input.hp-empty{background-color:#fff}');
    expect(css).toContain('input.hp-invalid{color:#c92a2a}');
    expect(css).toContain('label{font-weight:600}');
  });

  it('refuses properties, values and selectors outside the safe subset', () => {
    const hostile = {
      base: {
        backgroundImage: 'url(https://evil.example/x.png)',
        color: 'red;} body{display:none',
        fontFamily: 'x\\27',
        padding: 'var(--x)',
        lineHeight: 'expression(alert(1))',
        borderColor: 'url(x)',
        textShadow: '/* c */ 1px',
        ':has(input)': { color: 'red' },
        ':hover': 'red',
      },
      invalid: { color: 'rgb(1,2,3' },
      '__proto__': { color: 'red' },
      evil: { color: 'red' },
    };
    const { css, errors } = compileStyle(hostile);
    expect(css).toBe('');
    expect(errors.length).toBeGreaterThanOrEqual(10);
    expect(errors.join('\n')).toContain('property "backgroundImage" is not allowed');
    expect(errors.join('\n')).toContain('unknown style variant "evil"');
    expect(css).not.toMatch(/url|expression|var\(|;}/);
  });

  it('accepts nothing but an object', () => {
    expect(compileStyle(undefined)).toEqual({ css: '', errors: [] });
    expect(compileStyle('body{}').errors).toEqual(['style must be an object']);
    expect(compileStyle([1]).errors).toEqual(['style must be an object']);
  });
});
