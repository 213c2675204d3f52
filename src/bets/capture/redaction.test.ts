import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyCounts, luhnValid, redactText, redactValue } from './redaction.js';

/** A Luhn-valid number with `body` as its leading digits. */
function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(`${body}${d}`)) return `${body}${d}`;
  throw new Error('unreachable');
}

describe('redaction', () => {
  it('removes e-mail addresses and phone numbers, keeping dates, times and amounts', () => {
    const counts = emptyCounts();
    const out = redactText(
      'Mail ana.maria+orders@example.co.uk or call +1 (415) 555-0134 / 020 7946 0958 before 2026-03-01 at 10:30, total 1299.99',
      counts,
    );
    expect(out).toBe(
      'Mail [REDACTED_EMAIL] or call [REDACTED_PHONE] / [REDACTED_PHONE] before 2026-03-01 at 10:30, total 1299.99',
    );
    expect(counts).toMatchObject({ email: 1, phone: 2 });
  });

  it('removes card numbers that pass the Luhn check, and only those', () => {
    expect(redactText('card 4111 1111 1111 1111 exp 12/29')).toBe('card [REDACTED_CARD] exp 12/29');
    expect(redactText('card 5500-0000-0000-0004')).toBe('card [REDACTED_CARD]');
    expect(redactText('order 4111111111111112 shipped')).toBe('order 4111111111111112 shipped');
  });

  it('redacts every Luhn-valid 16-digit number and keeps every invalid one (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9][0-9]{14}$/), (body) => {
        const valid = withCheckDigit(body);
        const invalid = `${body}${(Number(valid.slice(-1)) + 1) % 10}`;
        expect(redactText(`pay with ${valid} now`)).toBe('pay with [REDACTED_CARD] now');
        expect(redactText(`ref ${invalid}.`)).toBe(`ref ${invalid}.`);
      }),
      { numRuns: 200 },
    );
  });

  it('removes secrets: API keys, bearer tokens, AWS keys, JWTs, key=value secrets, private key blocks', () => {
    const key = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'MIIEowIBAAKCAQEA7',
      '-----END RSA PRIVATE KEY-----',
    ].join('\n');
    const text = [
      'openai sk-proj-abcdefghijklmnopqrstuvwx12',
      'anthropic sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv',
      'Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9abc.def456ghijkl',
      'aws AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'gh ghp_0123456789abcdefghijABCDEFGHIJ',
      'password: hunter2hunter2',
      key,
    ].join('\n');
    const counts = emptyCounts();
    const out = redactText(text, counts);
    for (const leaked of [
      'abcdefghijklmnop',
      'AbCdEfGh',
      'JIUzI1NiJ9',
      'AKIAIOSFODNN7',
      'wJalrXUtnFEMI',
      'ghp_0123',
      'hunter2',
      'MIIEow',
    ]) {
      expect(out).not.toContain(leaked);
    }
    expect(out).toContain('Authorization: Bearer [REDACTED_SECRET]');
    expect(out).toContain('password: [REDACTED_SECRET]');
    expect(counts.secret).toBeGreaterThanOrEqual(7);
  });

  it('redacts every string of a JSON value, and whole values under secret-named keys', () => {
    const out = redactValue({
      messages: [{ role: 'user', content: 'I am bob@example.com' }],
      api_key: 'short',
      n: 4111111111111111,
    });
    expect(out).toEqual({
      messages: [{ role: 'user', content: 'I am [REDACTED_EMAIL]' }],
      api_key: '[REDACTED_SECRET]',
      n: 4111111111111111,
    });
  });
});
