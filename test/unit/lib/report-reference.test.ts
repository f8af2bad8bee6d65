import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkReportReference, reportReference } from '../../../lib/signed-link.ts';

const KEY = Buffer.alloc(32, 7);
const OTHER = Buffer.alloc(32, 8);

describe('a resident\'s report reference', () => {
  const ref = reportReference(KEY, 123);

  it('is short and readable: the id and two groups of four characters without I, L, O or U', () => {
    expect(ref).toMatch(/^123-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  });

  it.each([
    ['as given', (r: string) => r],
    ['in small letters', (r: string) => r.toLowerCase()],
    ['without the second hyphen, with spaces around', (r: string) => ` ${r.slice(0, -5)}${r.slice(-4)} `],
  ])('is found %s', (_what, typed) => {
    expect(checkReportReference(KEY, typed(ref))).toBe(123);
  });

  it('reads O as 0 and I or l as 1, the letters the code never uses', () => {
    // With this key, 124 is 124-PAQJ-0WE0 and 125 is 125-3DX9-SY21.
    expect(reportReference(KEY, 124)).toBe('124-PAQJ-0WE0');
    expect(checkReportReference(KEY, '124-PAQJ-OWEO')).toBe(124);
    expect(checkReportReference(KEY, '125-3dx9-sy2l')).toBe(125);
    expect(checkReportReference(KEY, '125-3DX9-SY2I')).toBe(125);
  });

  it.each([
    ['another report\'s id', ref.replace(/^123/, '124')],
    ['a changed character', ref.slice(0, -1) + (ref.endsWith('Z') ? 'Y' : 'Z')],
    ['another server\'s key', reportReference(OTHER, 123)],
    ['no code', '123'],
    ['not a number', 'abc-1234-5678'],
  ])('refuses %s', (_what, typed) => {
    expect(checkReportReference(KEY, typed)).toBeUndefined();
  });

  it('still answers a reference in the first format (id and 12 base64url characters)', () => {
    const legacy = `77-${createHmac('sha256', KEY).update('gs-report-v1\n77').digest('base64url').slice(0, 12)}`;
    expect(checkReportReference(KEY, legacy)).toBe(77);
    expect(checkReportReference(OTHER, legacy)).toBeUndefined();
  });
});
