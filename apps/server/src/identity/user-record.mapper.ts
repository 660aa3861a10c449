import { type UserAttribute, type UserRecord, type UserStatus } from '@irp/protocol';
import { UserEntity } from './entities/user.entity.js';

/**
 * The columns of `irp_user` as a raw query selects them for {@link userFromRow}, for
 * hot paths that read a user in a statement of their own (SCA login reads the user
 * with the certificate). `alias` is the table's alias in that statement.
 */
export function userColumnsSql(alias: string): string {
  return [
    'id',
    'user_id',
    'display_name',
    'email',
    'given_name',
    'surname',
    'organization',
    'title',
    'phone',
    'attributes',
    'status',
    'upa_enabled',
    'password_hash',
    'password_changed_at',
    'created_at',
    'updated_at',
  ]
    .map((c) => `${alias}.${c} AS u_${c}`)
    .join(', ');
}

/** A row selected with {@link userColumnsSql}. */
export interface UserRow {
  u_id: string;
  u_user_id: string;
  u_display_name: string | null;
  u_email: string | null;
  u_given_name: string | null;
  u_surname: string | null;
  u_organization: string | null;
  u_title: string | null;
  u_phone: string | null;
  u_attributes: UserAttribute[] | null;
  u_status: UserStatus;
  u_upa_enabled: boolean;
  u_password_hash: string | null;
  u_password_changed_at: Date | null;
  u_created_at: Date;
  u_updated_at: Date;
}

/** The {@link UserEntity} of a row selected with {@link userColumnsSql}. */
export function userFromRow(row: UserRow): UserEntity {
  return Object.assign(new UserEntity(), {
    id: row.u_id,
    userId: row.u_user_id,
    displayName: row.u_display_name,
    email: row.u_email,
    givenName: row.u_given_name,
    surname: row.u_surname,
    organization: row.u_organization,
    title: row.u_title,
    phone: row.u_phone,
    attributes: row.u_attributes ?? [],
    status: row.u_status,
    upaEnabled: row.u_upa_enabled,
    passwordHash: row.u_password_hash,
    passwordChangedAt: row.u_password_changed_at,
    createdAt: row.u_created_at,
    updatedAt: row.u_updated_at,
  });
}

/** The IRP address of a user id (spec §7.1). */
export function irpAddress(userId: string, domain: string): string {
  return `${userId}@${domain}`;
}

function setText<K extends keyof UserRecord>(
  record: UserRecord,
  key: K,
  value: UserRecord[K] | null,
): void {
  if (value !== null && value !== undefined) record[key] = value;
}

/** The whole record, as its owner sees it (spec §7.1, `info` without `user`). */
export function toFullRecord(user: UserEntity, domain: string): UserRecord {
  const record: UserRecord = { userId: user.userId, address: irpAddress(user.userId, domain) };
  setText(record, 'displayName', user.displayName);
  setText(record, 'email', user.email);
  setText(record, 'givenName', user.givenName);
  setText(record, 'surname', user.surname);
  setText(record, 'organization', user.organization);
  setText(record, 'title', user.title);
  setText(record, 'phone', user.phone);
  if (user.attributes.length > 0)
    record.attributes = user.attributes.map((a) => ({ name: a.name, value: a.value }));
  record.status = user.status;
  record.upaEnabled = user.upaEnabled;
  record.createdAt = user.createdAt;
  record.updatedAt = user.updatedAt;
  return record;
}

/**
 * Another user's directory record (spec §7.2): only userId, address, displayName,
 * email, organization, title and status.
 */
export function toPublicRecord(user: UserEntity, domain: string): UserRecord {
  const record: UserRecord = { userId: user.userId, address: irpAddress(user.userId, domain) };
  setText(record, 'displayName', user.displayName);
  setText(record, 'email', user.email);
  setText(record, 'organization', user.organization);
  setText(record, 'title', user.title);
  record.status = user.status;
  return record;
}
