import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Pkcs12Entry, type Pkcs12File } from '@irp/protocol';
import { PkiError, inspectPkcs12 } from '@irp/pki';
import { DataSource, type EntityManager } from 'typeorm';
import { type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { Pkcs12BackupEntity } from './entities/pkcs12-backup.entity.js';

/** Spec §10: at most 64 KiB per file (decoded). */
export const MAX_PKCS12_BYTES = 64 * 1024;
/** Spec §10: names of at most 128 characters. */
export const MAX_PKCS12_NAME = 128;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The owner of the backups: an authenticated user, and how to audit them (spec §13). */
export interface BackupOwner {
  userKey: string;
  userId: string;
  actor: Actor;
}

function charLength(text: string): number {
  return Array.from(text).length;
}

/** 2303 for an id that is not the caller's — never 2201, so ids do not leak (spec §10). */
function notFound(): DomainError {
  return new DomainError(DomainErrorCode.NotFound, 'Object does not exist: no such PKCS#12 file', {
    field: 'id',
  });
}

function toEntry(row: Pkcs12BackupEntity): Pkcs12Entry {
  return {
    id: row.id,
    name: row.name,
    size: row.size,
    sha256: row.sha256,
    createdAt: row.createdAt,
  };
}

/**
 * PKCS#12 key backups (spec §10): files kept byte for byte for their owner. The
 * server checks that a file is a PFX (version 3, BER or DER) without decrypting
 * anything — it never sees a passphrase. Quota `IRP_MAX_PKCS12_PER_USER` (2306
 * beyond); another user's file is 2303, exactly like one that does not exist.
 */
@Injectable()
export class BackupsService {
  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** `uploadPkcs12` → the stored entry. */
  async upload(owner: BackupOwner, name: string, data: Uint8Array): Promise<Pkcs12Entry> {
    return this.audit.action(
      { actor: owner.actor, action: 'uploadPkcs12', target: owner.userId },
      async (action) => {
        if (name.length === 0) {
          throw new DomainError(
            DomainErrorCode.MissingParameter,
            'Required parameter missing: <name>',
            {
              field: 'name',
            },
          );
        }
        if (charLength(name) > MAX_PKCS12_NAME) {
          throw new DomainError(
            DomainErrorCode.ValueRange,
            `Parameter value range error: <name> longer than ${MAX_PKCS12_NAME} characters`,
            { field: 'name' },
          );
        }
        if (data.length > MAX_PKCS12_BYTES) {
          throw new DomainError(
            DomainErrorCode.ValueRange,
            `Parameter value range error: <data> larger than ${MAX_PKCS12_BYTES} octets`,
            { field: 'data' },
          );
        }
        try {
          inspectPkcs12(data);
        } catch (error) {
          if (!(error instanceof PkiError)) throw error;
          throw new DomainError(
            DomainErrorCode.ValueSyntax,
            `Parameter value syntax error: <data> is not a PKCS#12 PFX: ${error.message}`,
            { field: 'data' },
          );
        }
        const sha256 = createHash('sha256').update(data).digest('hex');
        const row = await action.commit(async (m) => {
          await this.lockUser(m, owner.userKey);
          const [{ count } = { count: '0' }] = await m.query<{ count: string }[]>(
            `SELECT count(*)::text AS count FROM irp_pkcs12 WHERE user_key = $1`,
            [owner.userKey],
          );
          if (Number(count) >= this.config.maxPkcs12PerUser) {
            throw new DomainError(
              DomainErrorCode.Policy,
              `Parameter value policy error: at most ${this.config.maxPkcs12PerUser} PKCS#12 files per user`,
              { field: 'data' },
            );
          }
          const entity = m.create(Pkcs12BackupEntity, {
            userKey: owner.userKey,
            name,
            data: Buffer.from(data),
            size: data.length,
            sha256,
            createdAt: new Date(),
          });
          await m.insert(Pkcs12BackupEntity, entity);
          action.note.details = { id: entity.id, size: data.length, sha256 };
          return entity;
        });
        return toEntry(row);
      },
    );
  }

  /** `listPkcs12` → the caller's entries, oldest first. */
  async list(owner: BackupOwner): Promise<Pkcs12Entry[]> {
    const rows = await this.dataSource.manager.find(Pkcs12BackupEntity, {
      where: { userKey: owner.userKey },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map(toEntry);
  }

  /** `downloadPkcs12` → the entry with the file exactly as uploaded. */
  async download(owner: BackupOwner, id: string): Promise<Pkcs12File> {
    const key = this.parseId(id);
    const row = await this.dataSource.manager
      .createQueryBuilder(Pkcs12BackupEntity, 'p')
      .addSelect('p.data')
      .where('p.id = :id AND p.userKey = :userKey', { id: key, userKey: owner.userKey })
      .getOne();
    if (!row) throw notFound();
    return { ...toEntry(row), data: row.data };
  }

  /** `deletePkcs12`. */
  async delete(owner: BackupOwner, id: string): Promise<void> {
    await this.audit.action(
      { actor: owner.actor, action: 'deletePkcs12', target: owner.userId, details: { id } },
      async (action) => {
        const key = this.parseId(id);
        await action.commit(async (m) => {
          const deleted = await m.query<{ count: string }[]>(
            `WITH gone AS (DELETE FROM irp_pkcs12 WHERE id = $1 AND user_key = $2 RETURNING id)
             SELECT count(*)::text AS count FROM gone`,
            [key, owner.userKey],
          );
          if (deleted[0]?.count !== '1') throw notFound();
        });
      },
    );
  }

  /** Decision: an id that is not a UUID cannot exist → 2303 (not 2005). */
  private parseId(id: string): string {
    const key = id.trim().toLowerCase();
    if (!UUID_RE.test(key)) throw notFound();
    return key;
  }

  /** Serialises a user's uploads so that the quota holds across instances. */
  private async lockUser(m: EntityManager, userKey: string): Promise<void> {
    await m.query(`SELECT id FROM irp_user WHERE id = $1 FOR NO KEY UPDATE`, [userKey]);
  }
}
