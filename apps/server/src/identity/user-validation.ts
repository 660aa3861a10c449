/**
 * Field rules of the identity directory (spec §5, §6.3, §7.1). Each refusal is a
 * DomainError with the code of spec §5: 2003 missing, 2004 range (length, count),
 * 2005 syntax (characters, form), 2306 password policy.
 */
import { createHash } from 'node:crypto';
import { type UserAttribute, type UserProfileFields } from '@irp/protocol';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';

/** Spec §7.1: 3–64 of `[a-z0-9._-]`, starting with a letter or digit. */
export const USER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{2,63}$/;
const USER_ID_CHARS = /^[a-z0-9][a-z0-9._-]*$/;
/** Spec §7.1: attribute names. */
const ATTRIBUTE_NAME_CHARS = /^[A-Za-z0-9._-]+$/;
/** Spec §7.1: at most 32 free attributes, names ≤ 64, values ≤ 1024 characters. */
export const MAX_ATTRIBUTES = 32;
export const MAX_ATTRIBUTE_NAME = 64;
export const MAX_ATTRIBUTE_VALUE = 1024;
/** Decision (spec silent): other profile fields hold at most 256 characters. */
export const MAX_PROFILE_FIELD = 256;
/** Spec §7.1: emails ≤ 254 characters. */
export const MAX_EMAIL = 254;
/** Spec §6.3: passwords of 10–1024 characters. */
export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 1024;
/** Longest attempted user id kept as is in the lockout table; longer ones are hashed. */
const MAX_SUBJECT = 320;

/** The single-line text fields of a profile (spec §7.1), all but email. */
const TEXT_FIELDS = [
  'displayName',
  'givenName',
  'surname',
  'organization',
  'title',
  'phone',
] as const;
type TextField = (typeof TEXT_FIELDS)[number];

// C0 and C1 controls, DEL: refused in single-line fields (XML 1.0 still carries TAB, LF, CR)
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// RFC 5322 dot-atom local part and a DNS host name, ASCII only (decision)
const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const EMAIL_DOMAIN_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Characters as the spec counts them: Unicode code points. */
export function charLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

function syntax(message: string, field: string): DomainError {
  return new DomainError(DomainErrorCode.ValueSyntax, `Parameter value syntax error: ${message}`, {
    field,
  });
}

function range(message: string, field: string): DomainError {
  return new DomainError(DomainErrorCode.ValueRange, `Parameter value range error: ${message}`, {
    field,
  });
}

/**
 * A user id as a client may write it — `Alice`, `alice` or `alice@<domain>` — as the
 * stored lower-case id (spec §6.3, §7.1). Another domain → 2005; bad characters →
 * 2005; wrong length → 2004; empty → 2003.
 */
export function parseUserId(raw: string, domain: string, field = 'userId'): string {
  let id = raw.toLowerCase();
  if (id.length === 0) {
    throw new DomainError(
      DomainErrorCode.MissingParameter,
      `Required parameter missing: <${field}>`,
      { field },
    );
  }
  const at = id.lastIndexOf('@');
  if (at >= 0) {
    if (id.slice(at + 1) !== domain) throw syntax(`<${field}> is not a user of ${domain}`, field);
    id = id.slice(0, at);
  }
  if (!USER_ID_CHARS.test(id)) {
    throw syntax(`<${field}> must be of [a-z0-9._-], starting with a letter or digit`, field);
  }
  if (id.length < 3 || id.length > 64) throw range(`<${field}> must be 3 to 64 characters`, field);
  return id;
}

/**
 * How a `user` reference resolves: the lower-case id when it names this domain (by
 * id or address), `undefined` for an address of another domain.
 */
export function resolveUserRef(raw: string, domain: string, field = 'user'): string | undefined {
  const at = raw.lastIndexOf('@');
  if (at >= 0 && raw.slice(at + 1).toLowerCase() !== domain) return undefined;
  return parseUserId(raw, domain, field);
}

/**
 * The key failures are counted under for an attempted login (spec §6.3): lower-case,
 * this domain's `@domain` removed, so `Alice`, `alice` and `alice@<domain>` are one
 * key. Any string is accepted (an id that cannot exist is counted like one that does
 * not); very long ones are hashed to keep the key small.
 */
export function loginSubject(raw: string, domain: string): string {
  let id = raw.toLowerCase();
  const suffix = `@${domain}`;
  if (id.endsWith(suffix)) id = id.slice(0, -suffix.length);
  if (id.length <= MAX_SUBJECT) return id;
  return `#sha256:${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}

/** Spec §6.3 (and §7.2 for register/changePassword): 10–1024 characters, not the user id. */
export function checkPasswordPolicy(
  password: string,
  userId: string,
  domain: string,
  field = 'password',
): void {
  const length = charLength(password);
  if (length < MIN_PASSWORD || length > MAX_PASSWORD) {
    throw new DomainError(
      DomainErrorCode.Policy,
      `Parameter value policy error: <${field}> must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`,
      { field },
    );
  }
  const lower = password.toLowerCase();
  if (lower === userId || lower === `${userId}@${domain}`) {
    throw new DomainError(
      DomainErrorCode.Policy,
      `Parameter value policy error: <${field}> must not be the user id`,
      { field },
    );
  }
}

/** `local@domain`, ≤ 254 characters (spec §7.1). */
export function checkEmail(email: string, field = 'email'): void {
  if (charLength(email) > MAX_EMAIL)
    throw range(`<${field}> longer than ${MAX_EMAIL} characters`, field);
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const host = email.slice(at + 1);
  const ok =
    at > 0 &&
    local.length <= 64 &&
    EMAIL_LOCAL.test(local) &&
    host.length > 0 &&
    host.length <= 253 &&
    host.split('.').every((label) => EMAIL_DOMAIN_LABEL.test(label));
  if (!ok) throw syntax(`<${field}> is not an email address (local@domain)`, field);
}

function checkTextField(field: TextField, value: string): void {
  if (CONTROL.test(value)) throw syntax(`<${field}> contains control characters`, field);
  if (charLength(value) > MAX_PROFILE_FIELD) {
    throw range(`<${field}> longer than ${MAX_PROFILE_FIELD} characters`, field);
  }
}

function checkAttribute(a: UserAttribute): void {
  if (!ATTRIBUTE_NAME_CHARS.test(a.name)) {
    throw syntax(
      `<attribute> name "${a.name.slice(0, 64)}" must be of [A-Za-z0-9._-]`,
      'attribute',
    );
  }
  if (a.name.length > MAX_ATTRIBUTE_NAME) {
    throw range(`<attribute> names are 1 to ${MAX_ATTRIBUTE_NAME} characters`, 'attribute');
  }
  if (charLength(a.value) > MAX_ATTRIBUTE_VALUE) {
    throw range(
      `<attribute name="${a.name}"> longer than ${MAX_ATTRIBUTE_VALUE} characters`,
      'attribute',
    );
  }
}

function checkAttributeSet(attributes: readonly UserAttribute[]): void {
  const seen = new Set<string>();
  for (const a of attributes) {
    checkAttribute(a);
    if (seen.has(a.name))
      throw syntax(`<attribute name="${a.name}"> given more than once`, 'attribute');
    seen.add(a.name);
  }
}

/**
 * Profile columns after validation: a string, or null (cleared / not set).
 * `attributes` is the list of changes: an empty value removes that attribute.
 */
export interface ValidProfile {
  displayName?: string | null;
  email?: string | null;
  givenName?: string | null;
  surname?: string | null;
  organization?: string | null;
  title?: string | null;
  phone?: string | null;
  attributes?: UserAttribute[];
}

/**
 * Validates the profile fields present (spec §7.1). An empty field becomes null:
 * not set on `register`, cleared on `update`.
 */
export function validateProfile(profile: UserProfileFields): ValidProfile {
  const out: ValidProfile = {};
  for (const field of TEXT_FIELDS) {
    const value = profile[field];
    if (value === undefined) continue;
    if (value !== '') checkTextField(field, value);
    out[field] = value === '' ? null : value;
  }
  if (profile.email !== undefined) {
    if (profile.email !== '') checkEmail(profile.email);
    out.email = profile.email === '' ? null : profile.email;
  }
  if (profile.attributes !== undefined) {
    checkAttributeSet(profile.attributes);
    out.attributes = profile.attributes.map((a) => ({ name: a.name, value: a.value }));
  }
  return out;
}

/**
 * Applies attribute changes to the stored list: a value sets (in place, or appended),
 * an empty value removes. More than 32 afterwards → 2004 (spec §7.1).
 */
export function mergeAttributes(
  stored: readonly UserAttribute[],
  changes: readonly UserAttribute[],
): UserAttribute[] {
  const merged = stored.map((a) => ({ ...a }));
  for (const change of changes) {
    const index = merged.findIndex((a) => a.name === change.name);
    if (change.value === '') {
      if (index >= 0) merged.splice(index, 1);
    } else if (index >= 0) {
      merged[index] = { name: change.name, value: change.value };
    } else {
      merged.push({ name: change.name, value: change.value });
    }
  }
  if (merged.length > MAX_ATTRIBUTES)
    throw range(`at most ${MAX_ATTRIBUTES} attributes`, 'attribute');
  return merged;
}
