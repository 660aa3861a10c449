import 'reflect-metadata';
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { buildPkcs12, createDomainCa } from '@irp/pki';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { type Actor } from '../audit/actor.js';
import { AuditService, resultCodeOf } from '../audit/audit.service.js';
import { ConfigModule } from '../config/config.module.js';
import { loadConfig } from '../config/config.schema.js';
import { DatabaseModule } from '../database/database.module.js';
import { UsersService } from '../identity/users.service.js';
import { SessionRegistry } from '../transport/session-registry.service.js';
import { BackupsModule } from './backups.module.js';
import { type BackupOwner, BackupsService, MAX_PKCS12_BYTES } from './backups.service.js';

@Global()
@Module({ providers: [SessionRegistry], exports: [SessionRegistry] })
class TestSessionRegistryModule {}

const OPERATOR: Actor = { kind: 'operator', id: 'test-operator' };

async function code(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return ResultCode.Success;
  } catch (error) {
    return resultCodeOf(error);
  }
}

describe('BackupsService (spec §10)', () => {
  let database: TestDatabase;
  let moduleRef: TestingModule;
  let backups: BackupsService;
  let audit: AuditService;
  let alice: BackupOwner;
  let bob: BackupOwner;
  let pfx: Uint8Array;

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = loadConfig({
      IRP_DATA_DIR: 'memory',
      IRP_DOMAIN: 'example.com',
      IRP_LOG_LEVEL: 'error',
      IRP_MAX_PKCS12_PER_USER: '3',
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    });
    moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        TestSessionRegistryModule,
        BackupsModule,
      ],
    }).compile();
    moduleRef.useLogger(['error']);
    await moduleRef.init();
    backups = moduleRef.get(BackupsService);
    audit = moduleRef.get(AuditService);
    const users = moduleRef.get(UsersService);
    const owner = async (userId: string): Promise<BackupOwner> => {
      await users.createUser(OPERATOR, { userId, password: 'a long enough password' });
      const user = await users.findByUserId(userId);
      return { userKey: user?.id ?? '', userId, actor: { kind: 'user', id: userId } };
    };
    alice = await owner('alice');
    bob = await owner('bob');
    const ca = await createDomainCa({ domain: 'example.com', algorithm: 'P-256' });
    pfx = await buildPkcs12({
      privateKey: ca.root.privateKeyPkcs8Der,
      certificate: ca.root.certificateDer,
      passphrase: 'secret',
      iterations: 1000,
    });
  });
  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  it('stores the file byte for byte and lists entries without their data', async () => {
    const entry = await backups.upload(alice, 'ünïcode name ✓', pfx);
    expect(entry).toMatchObject({ name: 'ünïcode name ✓', size: pfx.length });
    const [listed] = await backups.list(alice);
    expect(listed).toEqual(entry);
    expect(listed && 'data' in listed).toBe(false);
    const file = await backups.download(alice, entry.id.toUpperCase());
    expect(Buffer.from(file.data).equals(Buffer.from(pfx))).toBe(true);
    expect((await audit.list({ action: 'uploadPkcs12', target: 'alice' })).at(-1)).toMatchObject({
      resultCode: 1000,
      details: { id: entry.id, size: pfx.length },
    });
  });

  it("answers 2303 for another user's id and for ids that cannot exist, never 2201", async () => {
    const entry = await backups.upload(alice, 'mine', pfx);
    expect(await code(backups.download(bob, entry.id))).toBe(ResultCode.ObjectDoesNotExist);
    expect(await code(backups.delete(bob, entry.id))).toBe(ResultCode.ObjectDoesNotExist);
    expect(await code(backups.download(alice, 'not-a-uuid'))).toBe(ResultCode.ObjectDoesNotExist);
    expect(await code(backups.download(alice, '00000000-0000-4000-8000-000000000000'))).toBe(
      ResultCode.ObjectDoesNotExist,
    );
    await backups.delete(alice, entry.id);
    expect((await backups.list(alice)).map((e) => e.name)).not.toContain('mine');
    expect((await audit.list({ action: 'deletePkcs12' })).map((r) => r.resultCode)).toEqual([
      2303, 1000,
    ]);
  });

  it('checks the PFX structure (2005), the 64 KiB limit and the name length (2004), and the quota (2306)', async () => {
    expect(
      await code(backups.upload(alice, 'x', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x02]))),
    ).toBe(ResultCode.ValueSyntax);
    expect(await code(backups.upload(alice, 'x', new Uint8Array(MAX_PKCS12_BYTES + 1)))).toBe(
      ResultCode.ValueRange,
    );
    expect(await code(backups.upload(alice, 'é'.repeat(129), pfx))).toBe(ResultCode.ValueRange);
    expect(await code(backups.upload(alice, 'é'.repeat(128), pfx))).toBe(ResultCode.Success);
    // alice has 2 files now; the quota is 3
    expect(await code(backups.upload(alice, 'third', pfx))).toBe(ResultCode.Success);
    expect(await code(backups.upload(alice, 'fourth', pfx))).toBe(ResultCode.PolicyError);
    // concurrent uploads cannot overshoot the quota
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => code(backups.upload(bob, `b${i}`, pfx))),
    );
    expect(results.filter((c) => c === ResultCode.Success)).toHaveLength(3);
    expect(await backups.list(bob)).toHaveLength(3);
  });
});
