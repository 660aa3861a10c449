import { describe, expect, it } from 'vitest';
import { generateEnrollmentCode, hashEnrollmentCode } from './enrollment-code.js';

describe('enrollment codes (spec §7.2)', () => {
  it('are 160 random bits in readable groups, all different', () => {
    const codes = Array.from({ length: 200 }, generateEnrollmentCode);
    for (const code of codes) expect(code).toMatch(/^([a-z2-7]{4}-){7}[a-z2-7]{4}$/);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('hash the same however the code is typed (case, dashes, spaces)', () => {
    const code = generateEnrollmentCode();
    const hash = hashEnrollmentCode(code);
    expect(hash).toHaveLength(32);
    expect(hashEnrollmentCode(code.toUpperCase().replace(/-/g, ' '))).toEqual(hash);
    expect(hashEnrollmentCode(code.replace(/-/g, ''))).toEqual(hash);
  });

  it('refuse anything that cannot be a code without hashing it', () => {
    expect(hashEnrollmentCode('')).toBeUndefined();
    expect(hashEnrollmentCode('not-a-code')).toBeUndefined();
    expect(hashEnrollmentCode('a'.repeat(33))).toBeUndefined();
  });
});
