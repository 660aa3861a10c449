import {
  formatTime,
  type Binding,
  type BindingAddress,
  type CertificateInfo,
  type Greeting,
  type UserRecord,
} from '@irp/protocol';

/** `AB:CD:…`, the form `openssl x509 -fingerprint -sha256` prints. */
export function formatFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

/** Normalises a fingerprint given by a user: hex, any case, colons or spaces allowed. */
export function normalizeFingerprint(text: string): string {
  return text.replace(/[\s:]/g, '').toLowerCase();
}

/** RFC 3339 UTC, or `-`. */
export function time(d: Date | undefined): string {
  return d ? formatTime(d) : '-';
}

/** One `key  value` row of {@link table}. */
export type Row = readonly [string, string | number | boolean | undefined];

/** Aligned `key  value` lines, skipping empty values. */
export function table(rows: readonly Row[]): string[] {
  const shown = rows.filter(([, v]) => v !== undefined && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${String(v)}`);
}

/** A user record (spec §7.1). */
export function renderUser(u: UserRecord): string[] {
  return table(userRows(u));
}

/** Rows of a user record, for {@link table}. */
export function userRows(u: UserRecord): Row[] {
  return [
    ['user', u.address ?? u.userId],
    ['display name', u.displayName],
    ['e-mail', u.email],
    ['given name', u.givenName],
    ['surname', u.surname],
    ['organization', u.organization],
    ['title', u.title],
    ['phone', u.phone],
    ...(u.attributes ?? []).map((a) => [`attribute ${a.name}`, a.value] as const),
    ['status', u.status],
    [
      'password login',
      u.upaEnabled === undefined ? undefined : u.upaEnabled ? 'enabled' : 'disabled',
    ],
    ['created', u.createdAt ? time(u.createdAt) : undefined],
    ['updated', u.updatedAt ? time(u.updatedAt) : undefined],
  ];
}

/** A certificate (spec §9), one block. */
export function renderCertificate(c: CertificateInfo): string[] {
  return table([
    ['serial', c.serial],
    ['sha256', c.sha256],
    ['profile', c.profile],
    ['status', c.status],
    ['not before', time(c.notBefore)],
    ['not after', time(c.notAfter)],
    ['revoked', c.revokedAt ? `${time(c.revokedAt)} (${c.reason ?? 'unspecified'})` : undefined],
  ]);
}

/** A certificate on one line (lists). */
export function certificateLine(c: CertificateInfo): string {
  return `${c.serial}  ${c.status.padEnd(10)}  ${(c.profile ?? '').padEnd(8)}  ${time(c.notBefore)} → ${time(c.notAfter)}  sha256 ${c.sha256.slice(0, 16)}…`;
}

/** `ipv6 tcp [2001:db8::7]:4605`. */
export function addressText(a: BindingAddress): string {
  const host = a.family === 'ipv6' && a.port !== undefined ? `[${a.address}]` : a.address;
  return `${a.family} ${a.transport ?? 'tcp'} ${host}${a.port !== undefined ? `:${a.port}` : ''}`;
}

/** A binding (spec §8) as lines; `verdict` says what the attestation check found. */
export function renderBinding(b: Binding, verdict: string): string[] {
  return [
    `device ${b.device}  (${verdict})`,
    ...b.addresses.map((a) => `  address   ${addressText(a)}`),
    ...(b.presence
      ? [`  presence  ${b.presence.status}${b.presence.note ? ` — ${b.presence.note}` : ''}`]
      : []),
    ...(b.service ? [`  service   ${b.service}`] : []),
    `  expires   ${time(b.expiresAt)}${b.updatedAt ? `  (updated ${time(b.updatedAt)})` : ''}`,
    ...b.certificates.map((s) => `  cert      sha256 ${s}`),
  ];
}

/** Rows of the greeting (spec §6.6), for {@link table}. */
export function greetingRows(g: Greeting, alpn: string | false | null): Row[] {
  return [
    ['server', g.server],
    ['domain', g.domain],
    ['server time', time(g.serverTime)],
    ['versions', g.versions.join(', ')],
    ['ALPN', alpn || 'none'],
    ['auth methods', g.authMethods.join(', ')],
    [
      'our certificate',
      `${g.clientCertificate.status}${g.clientCertificate.user ? ` (${g.clientCertificate.user})` : ''}`,
    ],
    ['registration', g.registration.open ? 'open' : 'closed'],
    ['enrollment', g.registration.enrollment ? 'yes' : 'no'],
    ['commands', g.commands.join(' ')],
    [
      'limits',
      `frame ${g.limits.maxFrameBytes} B, idle ${g.limits.idleTimeoutSeconds} s, auth ${g.limits.authTimeoutSeconds} s, ` +
        `bindings/user ${g.limits.maxBindingsPerUser}, backups/user ${g.limits.maxPkcs12PerUser}, ` +
        `certificate ≤ ${g.limits.maxCertificateDays} d, local addresses ${g.limits.allowLocalAddresses ? 'allowed' : 'refused'}`,
    ],
  ];
}
