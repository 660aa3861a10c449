/**
 * CRLReason (RFC 5280 §5.3.1). The names are IRP's wire names (spec §9); users
 * may choose unspecified, keyCompromise, affiliationChanged, superseded and
 * cessationOfOperation — the others exist for operators and completeness.
 */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** RFC 5280 code of each {@link RevocationReason} (7 is unused). */
export const REVOCATION_REASON_CODES: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** The reasons a user may give in `revokeCertificate` (spec §9); any other value answers 2004. */
export const USER_REVOCATION_REASONS: readonly RevocationReason[] = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
];

/** True when `value` is a {@link RevocationReason} name. */
export function isRevocationReason(value: string): value is RevocationReason {
  return Object.prototype.hasOwnProperty.call(REVOCATION_REASON_CODES, value);
}
