import { Injectable } from '@nestjs/common';
import {
  type AddressVisibility,
  type Attestation,
  type AttestationAlgorithm,
  type Presence,
  type PresenceStatus,
  type UserStatus,
  type WatcherStatus,
} from '@irp/protocol';
import { type EntityManager } from 'typeorm';
import { AUDIT_COLUMNS, type AuditColumnValues } from '../audit/audit.service.js';
import { type CanonicalAddress } from './address-validation.js';

/** A stored binding as the registry uses it (spec §8). */
export interface StoredBinding {
  device: string;
  addresses: CanonicalAddress[];
  presence?: Presence;
  service?: string;
  updatedAt: Date;
  expiresAt: Date;
  attestation?: Attestation;
}

/** A user of the directory, as far as the registry needs one. */
export interface DirectoryUser {
  userKey: string;
  userId: string;
  status: UserStatus;
}

/** The owner-side facts that decide who may see a user's addresses (spec §8.1). */
export interface OwnerAccess {
  visibility: AddressVisibility;
  /** Users the owner approved. */
  approved: Set<string>;
  /** Users with a pending watch request. */
  pending: Set<string>;
}

/** A row of `listWatchers` (spec §8.1). */
export interface WatcherRow {
  userId: string;
  status: WatcherStatus;
  since: Date;
}

/** What a registration writes (spec §8). */
export interface BindingWrite {
  userKey: string;
  device: string;
  addresses: CanonicalAddress[];
  presence?: Presence | undefined;
  service?: string | undefined;
  observedAddress: string;
  observedPort: number;
  certificateSerial?: string | undefined;
  attestation?: Attestation | undefined;
  expiresSeconds: number;
  /** The binding expires no later than this (attestation `notAfter`, spec §8.2). */
  notAfter?: Date | undefined;
  /** `maxBindingsPerUser`: live bindings of other devices must be fewer. */
  maxBindings: number;
}

/** One registration of a group commit ({@link AddressRepository.registerBindings}). */
export interface BatchedRegistration {
  write: BindingWrite;
  /** Its audit row; the result code is the outcome's (success, or the quota refusal's). */
  audit: Omit<AuditColumnValues, 'result_code'>;
  /** The event payload to `pg_notify` when the binding was stored (with `notifyChannel`). */
  event: string;
}

/** Namespace of the registry's advisory locks (the IANA port, for recognisability). */
const LOCK_NAMESPACE = 4604;

const BINDING_COLUMN_LIST = [
  'device',
  'addresses',
  'presence_status',
  'presence_note',
  'service',
  'updated_at',
  'expires_at',
  'attestation_cert',
  'attestation_alg',
  'attestation_text',
  'attestation_signature',
] as const;

const BINDING_COLUMNS = BINDING_COLUMN_LIST.join(', ');

/** A binding upsert's conflict clause: a device's new registration replaces every field but its creation time. */
const UPSERT_BINDING_CONFLICT = `ON CONFLICT (user_key, device) DO UPDATE SET
           addresses = excluded.addresses, presence_status = excluded.presence_status,
           presence_note = excluded.presence_note, service = excluded.service,
           observed_address = excluded.observed_address, observed_port = excluded.observed_port,
           certificate_serial = excluded.certificate_serial, attestation_cert = excluded.attestation_cert,
           attestation_alg = excluded.attestation_alg, attestation_text = excluded.attestation_text,
           attestation_signature = excluded.attestation_signature,
           updated_at = excluded.updated_at, expires_at = excluded.expires_at`;

interface BindingRow {
  device: string;
  addresses: CanonicalAddress[];
  presence_status: PresenceStatus | null;
  presence_note: string | null;
  service: string | null;
  updated_at: Date;
  expires_at: Date;
  attestation_cert: string | null;
  attestation_alg: AttestationAlgorithm | null;
  attestation_text: Uint8Array | null;
  attestation_signature: Uint8Array | null;
}

function toBinding(row: BindingRow): StoredBinding {
  const binding: StoredBinding = {
    device: row.device,
    addresses: row.addresses,
    updatedAt: new Date(row.updated_at),
    expiresAt: new Date(row.expires_at),
  };
  if (row.presence_status !== null) {
    binding.presence =
      row.presence_note === null
        ? { status: row.presence_status }
        : { status: row.presence_status, note: row.presence_note };
  }
  if (row.service !== null) binding.service = row.service;
  if (
    row.attestation_cert !== null &&
    row.attestation_alg &&
    row.attestation_text &&
    row.attestation_signature
  ) {
    binding.attestation = {
      cert: row.attestation_cert,
      alg: row.attestation_alg,
      text: new Uint8Array(row.attestation_text),
      signature: new Uint8Array(row.attestation_signature),
    };
  }
  return binding;
}

/**
 * The SQL of the address registry. (Data-changing statements are wrapped as `WITH …
 * SELECT`: TypeORM returns `[rows, count]` instead of rows for a bare UPDATE/DELETE.) Every method takes the manager to run on — the
 * caller's transaction, or the data source's manager — because on the embedded
 * database a second checkout inside a transaction would wait forever. Times come from
 * the database clock, so that every instance agrees on what has lapsed.
 */
@Injectable()
export class AddressRepository {
  /** Serialises the registry's changes of one user (binding quota, policy vs. requests). */
  async lockUser(m: EntityManager, userKey: string): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE, userKey]);
  }

  /** {@link lockUser} for several users at once, in one global order (no deadlock between callers). */
  async lockUsers(m: EntityManager, userKeys: readonly string[]): Promise<void> {
    if (userKeys.length === 0) return;
    await m.query(
      `SELECT pg_advisory_xact_lock($1, h)
       FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS ordered`,
      [LOCK_NAMESPACE, [...userKeys]],
    );
  }

  async findUser(m: EntityManager, userId: string): Promise<DirectoryUser | undefined> {
    const rows: { id: string; user_id: string; status: UserStatus }[] = await m.query(
      'SELECT id, user_id, status FROM irp_user WHERE user_id = $1',
      [userId],
    );
    const row = rows[0];
    return row && { userKey: row.id, userId: row.user_id, status: row.status };
  }

  async userIdOf(m: EntityManager, userKey: string): Promise<string | undefined> {
    const rows: { user_id: string }[] = await m.query(
      'SELECT user_id FROM irp_user WHERE id = $1',
      [userKey],
    );
    return rows[0]?.user_id;
  }

  /**
   * Creates or replaces the device's binding in one statement (spec §8: atomic
   * replace), unless the user already has `maxBindings` live bindings of other
   * devices. Lapsed bindings of other devices are removed on the way.
   * Returns the stored binding, or undefined when the quota refused it.
   */
  async upsertBinding(
    m: EntityManager,
    w: BindingWrite,
  ): Promise<{ binding: StoredBinding | undefined; lapsed: number }> {
    const rows: (Partial<BindingRow> & { lapsed: string | number })[] = await m.query(
      `WITH lapsed AS (
         DELETE FROM irp_address_binding
         WHERE user_key = $1 AND device <> $2 AND expires_at <= now()
         RETURNING 1
       ), live AS (
         SELECT count(*) AS n FROM irp_address_binding
         WHERE user_key = $1 AND device <> $2 AND expires_at > now()
       ), up AS (
         INSERT INTO irp_address_binding AS b (user_key, device, addresses, presence_status, presence_note, service,
           observed_address, observed_port, certificate_serial,
           attestation_cert, attestation_alg, attestation_text, attestation_signature,
           created_at, updated_at, expires_at)
         SELECT $1, $2, $3::jsonb, $4, $5, $6, $7::inet, $8, $9, $10, $11, $12, $13, now(), now(),
           LEAST(to_timestamp(ceil(extract(epoch FROM now()) + $14::int)::float8), coalesce($15::timestamptz, 'infinity'))
         FROM live WHERE live.n < $16
         ${UPSERT_BINDING_CONFLICT}
         RETURNING ${BINDING_COLUMNS}
       )
       SELECT up.*, (SELECT count(*) FROM lapsed) AS lapsed FROM (SELECT 1) AS one LEFT JOIN up ON true`,
      [
        w.userKey,
        w.device,
        JSON.stringify(w.addresses),
        w.presence?.status ?? null,
        w.presence?.note ?? null,
        w.service ?? null,
        w.observedAddress,
        w.observedPort,
        w.certificateSerial ?? null,
        w.attestation?.cert ?? null,
        w.attestation?.alg ?? null,
        w.attestation ? Buffer.from(w.attestation.text) : null,
        w.attestation ? Buffer.from(w.attestation.signature) : null,
        w.expiresSeconds,
        w.notAfter ?? null,
        w.maxBindings,
      ],
    );
    const row = rows[0];
    const lapsed = Number(row?.lapsed ?? 0);
    if (!row || row.device === null || row.device === undefined)
      return { binding: undefined, lapsed };
    return { binding: toBinding(row as BindingRow), lapsed };
  }

  /**
   * {@link upsertBinding} for many registrations in ONE statement (a group commit):
   * per registration the same rules — lapsed bindings of the user's other devices go,
   * the binding is stored only if the user has fewer than `maxBindings` live bindings
   * of other devices, and replaces the device's binding — plus its audit row (result
   * 1000, or `refusedCode` when the quota refused it), and, with `notifyChannel`, a
   * `pg_notify` of its event when stored. Lapsed bindings of a refused registration
   * stay (as the rollback of {@link upsertBinding}'s refusal leaves them).
   *
   * At most one registration per user: the quota count of a user must see the user's
   * previous write, and ON CONFLICT cannot touch a row twice in one statement. The
   * caller holds the users' locks ({@link lockUsers}) in this transaction, taken in an
   * earlier statement so that this one's snapshot sees every committed write.
   * Returns the stored binding of each registration (undefined: refused), in order.
   */
  async registerBindings(
    m: EntityManager,
    items: readonly BatchedRegistration[],
    options: { refusedCode: number; notifyChannel?: string | undefined },
  ): Promise<(StoredBinding | undefined)[]> {
    if (items.length === 0) return [];
    const users = new Set(items.map((r) => r.write.userKey));
    if (users.size !== items.length)
      throw new Error('registerBindings: at most one registration per user');
    const hex = (bytes: Uint8Array | undefined): string | null =>
      bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : null;
    const column = <T>(f: (r: BatchedRegistration) => T): T[] => items.map(f);
    const auditColumns = AUDIT_COLUMNS.filter((c) => c !== 'result_code');
    // arrays of text (cast in SQL) or int: they travel the same on pg and the embedded driver
    const params: unknown[] = [
      items.map((_, i) => i),
      column((r) => r.write.userKey),
      column((r) => r.write.device),
      column((r) => JSON.stringify(r.write.addresses)),
      column((r) => r.write.presence?.status ?? null),
      column((r) => r.write.presence?.note ?? null),
      column((r) => r.write.service ?? null),
      column((r) => r.write.observedAddress),
      column((r) => r.write.observedPort),
      column((r) => r.write.certificateSerial ?? null),
      column((r) => r.write.attestation?.cert ?? null),
      column((r) => r.write.attestation?.alg ?? null),
      column((r) => hex(r.write.attestation?.text)),
      column((r) => hex(r.write.attestation?.signature)),
      column((r) => r.write.expiresSeconds),
      column((r) => r.write.notAfter?.toISOString() ?? null),
      column((r) => r.write.maxBindings),
      column((r) => r.event),
      ...auditColumns.map((c) => column((r) => r.audit[c])),
      options.refusedCode,
      options.notifyChannel ?? null,
    ];
    const auditParams = auditColumns.map((_, j) => `$${19 + j}::text[]`).join(', ');
    const refused = `$${19 + auditColumns.length}`;
    const channel = `$${20 + auditColumns.length}`;
    const rows: (Partial<BindingRow> & { i: number; stored: boolean })[] = await m.query(
      `WITH r AS (
         SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
           $7::text[], $8::text[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[],
           $14::text[], $15::int[], $16::text[], $17::int[], $18::text[], ${auditParams})
         AS r(i, user_key, device, addresses, presence_status, presence_note, service,
           observed_address, observed_port, certificate_serial, attestation_cert, attestation_alg,
           attestation_text, attestation_signature, expires, not_after, max_bindings, event,
           ${auditColumns.map((c) => `a_${c}`).join(', ')})
       ), ok AS (
         SELECT r.* FROM r
         WHERE (SELECT count(*) FROM irp_address_binding b
                WHERE b.user_key = r.user_key AND b.device <> r.device AND b.expires_at > now()) < r.max_bindings
       ), lapsed AS (
         DELETE FROM irp_address_binding b USING ok
         WHERE b.user_key = ok.user_key AND b.device <> ok.device AND b.expires_at <= now()
       ), up AS (
         INSERT INTO irp_address_binding AS b (user_key, device, addresses, presence_status, presence_note, service,
           observed_address, observed_port, certificate_serial,
           attestation_cert, attestation_alg, attestation_text, attestation_signature,
           created_at, updated_at, expires_at)
         SELECT user_key, device, addresses::jsonb, presence_status, presence_note, service,
           observed_address::inet, observed_port, certificate_serial,
           attestation_cert, attestation_alg, decode(attestation_text, 'hex'), decode(attestation_signature, 'hex'),
           now(), now(),
           LEAST(to_timestamp(ceil(extract(epoch FROM now()) + expires)::float8), coalesce(not_after::timestamptz, 'infinity'))
         FROM ok ORDER BY i
         ${UPSERT_BINDING_CONFLICT}
         RETURNING user_key, ${BINDING_COLUMNS}
       ), audit AS (
         INSERT INTO irp_audit_log (${AUDIT_COLUMNS.join(', ')})
         SELECT ${AUDIT_COLUMNS.map((c) =>
           c === 'result_code'
             ? `CASE WHEN up.user_key IS NULL THEN ${refused}::int ELSE 1000 END`
             : c === 'details'
               ? 'r.a_details::jsonb'
               : `r.a_${c}`,
         ).join(', ')}
         FROM r LEFT JOIN up ON up.user_key = r.user_key ORDER BY r.i
       )
       SELECT r.i, up.user_key IS NOT NULL AS stored,
         ${BINDING_COLUMN_LIST.map((c) => `up.${c}`).join(', ')},
         CASE WHEN up.user_key IS NOT NULL AND ${channel}::text IS NOT NULL
           THEN pg_notify(${channel}::text, r.event) END AS notified
       FROM r LEFT JOIN up ON up.user_key = r.user_key ORDER BY r.i`,
      params,
    );
    const result: (StoredBinding | undefined)[] = items.map(() => undefined);
    for (const row of rows) if (row.stored) result[Number(row.i)] = toBinding(row as BindingRow);
    return result;
  }

  /** Deletes the device's binding; returns whether a live one was there. */
  async deleteBinding(m: EntityManager, userKey: string, device: string): Promise<boolean> {
    const rows: { live: boolean }[] = await m.query(
      `WITH gone AS (DELETE FROM irp_address_binding WHERE user_key = $1 AND device = $2 RETURNING expires_at)
       SELECT expires_at > now() AS live FROM gone`,
      [userKey, device],
    );
    return rows[0]?.live === true;
  }

  /** The user's live bindings, most recently updated first (spec §8). */
  async liveBindings(m: EntityManager, userKey: string): Promise<StoredBinding[]> {
    const rows: BindingRow[] = await m.query(
      `SELECT ${BINDING_COLUMNS} FROM irp_address_binding
       WHERE user_key = $1 AND expires_at > now() ORDER BY updated_at DESC, device`,
      [userKey],
    );
    return rows.map(toBinding);
  }

  /**
   * Deletes up to `limit` lapsed bindings; several instances may purge at once
   * (SKIP LOCKED). Returns how many went, and their owners.
   */
  async purgeLapsed(
    m: EntityManager,
    limit: number,
  ): Promise<{ deleted: number; owners: string[] }> {
    const rows: { user_key: string; n: string | number }[] = await m.query(
      `WITH gone AS (
         DELETE FROM irp_address_binding WHERE id IN (
           SELECT id FROM irp_address_binding WHERE expires_at <= now()
           ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING user_key)
       SELECT user_key, count(*) AS n FROM gone GROUP BY user_key`,
      [limit],
    );
    return {
      deleted: rows.reduce((sum, r) => sum + Number(r.n), 0),
      owners: rows.map((r) => r.user_key),
    };
  }

  /** Deletes the bindings registered in sessions of one SCA certificate (spec §8); returns their owners. */
  async deleteByCertificate(m: EntityManager, serial: string): Promise<string[]> {
    const rows: { user_key: string }[] = await m.query(
      `WITH gone AS (DELETE FROM irp_address_binding WHERE certificate_serial = $1 RETURNING user_key)
       SELECT DISTINCT user_key FROM gone`,
      [serial],
    );
    return rows.map((r) => r.user_key);
  }

  /** Deletes every binding of a user; returns how many were live. */
  async deleteAllOfUser(m: EntityManager, userKey: string): Promise<number> {
    const rows: { live: boolean }[] = await m.query(
      `WITH gone AS (DELETE FROM irp_address_binding WHERE user_key = $1 RETURNING expires_at)
       SELECT expires_at > now() AS live FROM gone`,
      [userKey],
    );
    return rows.filter((r) => r.live).length;
  }

  // ---- policy and watchers, spec §8.1 ----

  async access(m: EntityManager, ownerKey: string): Promise<OwnerAccess> {
    const rows: {
      visibility: AddressVisibility | null;
      watcher_key: string | null;
      status: WatcherStatus | null;
    }[] = await m.query(
      `SELECT p.visibility, w.watcher_key, w.status
         FROM (SELECT $1::uuid AS owner_key) o
         LEFT JOIN irp_address_policy p ON p.user_key = o.owner_key
         LEFT JOIN irp_address_watcher w ON w.owner_key = o.owner_key`,
      [ownerKey],
    );
    const access: OwnerAccess = {
      visibility: rows[0]?.visibility ?? 'domain',
      approved: new Set(),
      pending: new Set(),
    };
    for (const row of rows) {
      if (row.watcher_key === null) continue;
      (row.status === 'approved' ? access.approved : access.pending).add(row.watcher_key);
    }
    return access;
  }

  /** The owner's policy, and what one viewer is to them. */
  async accessOf(
    m: EntityManager,
    ownerKey: string,
    viewerKey: string,
  ): Promise<{ visibility: AddressVisibility; watcher: WatcherStatus | undefined }> {
    const rows: { visibility: AddressVisibility | null; status: WatcherStatus | null }[] =
      await m.query(
        `SELECT (SELECT visibility FROM irp_address_policy WHERE user_key = $1) AS visibility,
              (SELECT status FROM irp_address_watcher WHERE owner_key = $1 AND watcher_key = $2) AS status`,
        [ownerKey, viewerKey],
      );
    return { visibility: rows[0]?.visibility ?? 'domain', watcher: rows[0]?.status ?? undefined };
  }

  /** Sets the policy; returns the previous one. */
  async setVisibility(
    m: EntityManager,
    ownerKey: string,
    visibility: AddressVisibility,
  ): Promise<AddressVisibility> {
    const before: { visibility: AddressVisibility }[] = await m.query(
      'SELECT visibility FROM irp_address_policy WHERE user_key = $1',
      [ownerKey],
    );
    await m.query(
      `INSERT INTO irp_address_policy (user_key, visibility, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (user_key) DO UPDATE SET visibility = excluded.visibility, updated_at = excluded.updated_at`,
      [ownerKey, visibility],
    );
    return before[0]?.visibility ?? 'domain';
  }

  /** Drops the owner's pending requests; returns the requesters. */
  async deletePending(m: EntityManager, ownerKey: string): Promise<string[]> {
    const rows: { watcher_key: string }[] = await m.query(
      `WITH gone AS (DELETE FROM irp_address_watcher WHERE owner_key = $1 AND status = 'pending' RETURNING watcher_key)
       SELECT watcher_key FROM gone`,
      [ownerKey],
    );
    return rows.map((r) => r.watcher_key);
  }

  /** Records a watch request; returns false when one was already pending. */
  async addRequest(m: EntityManager, ownerKey: string, watcherKey: string): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO irp_address_watcher (owner_key, watcher_key, status, since) VALUES ($1, $2, 'pending', now())
       ON CONFLICT (owner_key, watcher_key) DO NOTHING RETURNING 1 AS created`,
      [ownerKey, watcherKey],
    );
    return rows.length > 0;
  }

  /** Approves a watcher (a pending request, or ahead of any); returns the status before. */
  async approve(
    m: EntityManager,
    ownerKey: string,
    watcherKey: string,
  ): Promise<WatcherStatus | undefined> {
    const before: { status: WatcherStatus }[] = await m.query(
      'SELECT status FROM irp_address_watcher WHERE owner_key = $1 AND watcher_key = $2',
      [ownerKey, watcherKey],
    );
    const status = before[0]?.status;
    if (status === 'approved') return status;
    await m.query(
      `INSERT INTO irp_address_watcher (owner_key, watcher_key, status, since) VALUES ($1, $2, 'approved', now())
       ON CONFLICT (owner_key, watcher_key) DO UPDATE SET status = 'approved', since = now()`,
      [ownerKey, watcherKey],
    );
    return status;
  }

  /** Removes an approval or a pending request; returns what it was. */
  async removeWatcher(
    m: EntityManager,
    ownerKey: string,
    watcherKey: string,
  ): Promise<WatcherStatus | undefined> {
    const rows: { status: WatcherStatus }[] = await m.query(
      `WITH gone AS (DELETE FROM irp_address_watcher WHERE owner_key = $1 AND watcher_key = $2 RETURNING status)
       SELECT status FROM gone`,
      [ownerKey, watcherKey],
    );
    return rows[0]?.status;
  }

  /** The owner's watchers: oldest first, then by user id. */
  async listWatchers(m: EntityManager, ownerKey: string): Promise<WatcherRow[]> {
    const rows: { user_id: string; status: WatcherStatus; since: Date }[] = await m.query(
      `SELECT u.user_id, w.status, w.since FROM irp_address_watcher w JOIN irp_user u ON u.id = w.watcher_key
       WHERE w.owner_key = $1 ORDER BY w.since, u.user_id`,
      [ownerKey],
    );
    return rows.map((r) => ({ userId: r.user_id, status: r.status, since: new Date(r.since) }));
  }
}
