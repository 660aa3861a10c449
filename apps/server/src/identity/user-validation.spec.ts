import { describe, expect, it } from 'vitest';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import {
  checkEmail,
  checkPasswordPolicy,
  loginSubject,
  mergeAttributes,
  parseUserId,
  resolveUserRef,
  validateProfile,
} from './user-validation.js';

const D = 'example.com';

function codeOf(fn: () => unknown): DomainErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

describe('parseUserId (spec §7.1)', () => {
  it.each([
    ['alice', 'alice'],
    ['Alice', 'alice'],
    ['ALICE@Example.COM', 'alice'],
    ['a.b-c_d', 'a.b-c_d'],
    ['0ab', '0ab'],
    ['x'.repeat(64), 'x'.repeat(64)],
  ])('%s → %s', (raw, id) => {
    expect(parseUserId(raw, D)).toBe(id);
  });

  it.each([
    ['', DomainErrorCode.MissingParameter],
    ['ab', DomainErrorCode.ValueRange],
    ['x'.repeat(65), DomainErrorCode.ValueRange],
    ['.abc', DomainErrorCode.ValueSyntax],
    ['-abc', DomainErrorCode.ValueSyntax],
    ['al ice', DomainErrorCode.ValueSyntax],
    ['alïce', DomainErrorCode.ValueSyntax],
    ['alice@other.org', DomainErrorCode.ValueSyntax],
  ])('refuses %j with %s', (raw, code) => {
    expect(codeOf(() => parseUserId(raw, D))).toBe(code);
  });

  it('resolves a reference to another domain to undefined (→ 2303 in info)', () => {
    expect(resolveUserRef('bob@other.org', D)).toBeUndefined();
    expect(resolveUserRef('Bob@EXAMPLE.com', D)).toBe('bob');
  });
});

describe('loginSubject (spec §6.3: one key per user, existing or not)', () => {
  it('folds case and this domain, keeps anything else', () => {
    expect(loginSubject('Alice', D)).toBe('alice');
    expect(loginSubject('alice@EXAMPLE.COM', D)).toBe('alice');
    expect(loginSubject('alice@other.org', D)).toBe('alice@other.org');
    expect(loginSubject('no such user!', D)).toBe('no such user!');
  });

  it('hashes very long ids so the lockout key stays small', () => {
    const key = loginSubject('a'.repeat(5000), D);
    expect(key).toMatch(/^#sha256:[0-9a-f]{64}$/);
    expect(loginSubject('A'.repeat(5000), D)).toBe(key);
  });
});

describe('checkPasswordPolicy (spec §6.3)', () => {
  it.each([
    ['123456789', DomainErrorCode.Policy],
    ['1234567890', 'ok'],
    ['x'.repeat(1024), 'ok'],
    ['x'.repeat(1025), DomainErrorCode.Policy],
    // characters, not octets: 10 emoji are 40 octets
    ['😀'.repeat(9), DomainErrorCode.Policy],
    ['😀'.repeat(10), 'ok'],
    ['alice.long', DomainErrorCode.Policy],
    ['ALICE.LONG', DomainErrorCode.Policy],
    ['alice.long@example.com', DomainErrorCode.Policy],
    ['  spaces are kept  ', 'ok'],
  ])('%j → %s', (password, code) => {
    expect(codeOf(() => checkPasswordPolicy(password, 'alice.long', D))).toBe(code);
  });
});

describe('checkEmail (spec §7.1)', () => {
  it.each(['a@b', 'alice@example.com', "o'neil+tag@mail.example.org", 'x@sub-domain.example'])(
    'accepts %s',
    (e) => {
      expect(codeOf(() => checkEmail(e))).toBe('ok');
    },
  );

  it.each([
    ['alice', DomainErrorCode.ValueSyntax],
    ['@example.com', DomainErrorCode.ValueSyntax],
    ['alice@', DomainErrorCode.ValueSyntax],
    ['al ice@example.com', DomainErrorCode.ValueSyntax],
    ['alice..x@example.com', DomainErrorCode.ValueSyntax],
    ['alice@-example.com', DomainErrorCode.ValueSyntax],
    ['alice@exa_mple.com', DomainErrorCode.ValueSyntax],
    [
      `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`,
      DomainErrorCode.ValueRange,
    ],
  ])('refuses %s with %s', (e, code) => {
    expect(codeOf(() => checkEmail(e))).toBe(code);
  });
});

describe('validateProfile (spec §7.1)', () => {
  it('keeps present fields, turns empty ones into null, ignores absent ones', () => {
    expect(
      validateProfile({ displayName: 'Alice', title: '', attributes: [{ name: 'a', value: '1' }] }),
    ).toEqual({
      displayName: 'Alice',
      title: null,
      attributes: [{ name: 'a', value: '1' }],
    });
  });

  it.each([
    [{ displayName: 'x'.repeat(257) }, DomainErrorCode.ValueRange],
    [{ displayName: 'line\nbreak' }, DomainErrorCode.ValueSyntax],
    [{ email: 'nope' }, DomainErrorCode.ValueSyntax],
    [{ attributes: [{ name: 'bad name', value: 'v' }] }, DomainErrorCode.ValueSyntax],
    [{ attributes: [{ name: 'n'.repeat(65), value: 'v' }] }, DomainErrorCode.ValueRange],
    [{ attributes: [{ name: 'n', value: 'v'.repeat(1025) }] }, DomainErrorCode.ValueRange],
    [
      {
        attributes: [
          { name: 'n', value: 'a' },
          { name: 'n', value: 'b' },
        ],
      },
      DomainErrorCode.ValueSyntax,
    ],
  ])('refuses %j with %s', (profile, code) => {
    expect(codeOf(() => validateProfile(profile))).toBe(code);
  });

  it('merges attribute changes by name: set, replace in place, remove with an empty value', () => {
    const stored = [
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
    ];
    expect(
      mergeAttributes(stored, [
        { name: 'b', value: '3' },
        { name: 'a', value: '' },
        { name: 'c', value: '4' },
      ]),
    ).toEqual([
      { name: 'b', value: '3' },
      { name: 'c', value: '4' },
    ]);
  });

  it('allows 32 attributes and refuses the 33rd with 2004', () => {
    const many = Array.from({ length: 32 }, (_, i) => ({ name: `n${i}`, value: 'v' }));
    expect(mergeAttributes([], many)).toHaveLength(32);
    expect(codeOf(() => mergeAttributes(many, [{ name: 'extra', value: 'v' }]))).toBe(
      DomainErrorCode.ValueRange,
    );
  });
});
