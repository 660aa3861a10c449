import { type UserRecord } from '@irp/protocol';
import { type UserEntity } from './entities/user.entity.js';

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
