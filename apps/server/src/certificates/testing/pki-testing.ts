/**
 * Test support (excluded from the build): the PKI services on a real database — a
 * fresh PostgreSQL database when TEST_DATABASE_URL is set, else the embedded one in
 * memory — with the identity directory, the address registry and an in-process
 * session registry, exactly as the application wires them.
 */
import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { type UserRecord } from '@irp/protocol';
import { DataSource } from 'typeorm';
import {
  createTestDatabase,
  type TestDatabase,
} from '../../../../../test/support/test-database.js';
import { AddressRegistryService } from '../../addresses/address-registry.service.js';
import { type Actor } from '../../audit/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import { ConfigModule } from '../../config/config.module.js';
import { type IrpConfig, loadConfig } from '../../config/config.schema.js';
import { DatabaseModule } from '../../database/database.module.js';
import { UsersService } from '../../identity/users.service.js';
import { SessionRegistry } from '../../transport/session-registry.service.js';
import { AuthPolicyService } from '../auth-policy.service.js';
import { CaTlsCredentials } from '../ca-tls-credentials.js';
import { CertificatesModule } from '../certificates.module.js';
import { type CertificateCaller, CertificatesService } from '../certificates.service.js';
import { ClientCertificateVerifier } from '../client-certificate-verifier.service.js';
import { CrlService } from '../crl.service.js';
import { DomainCaService } from '../domain-ca.service.js';
import { OcspService } from '../ocsp.service.js';

@Global()
@Module({ providers: [SessionRegistry], exports: [SessionRegistry] })
class TestSessionRegistryModule {}

/** The operator of these tests. */
export const OPERATOR: Actor = { kind: 'operator', id: 'test-operator', authMethod: 'test' };

export interface PkiTestContext {
  moduleRef: TestingModule;
  config: IrpConfig;
  database: TestDatabase;
  dataSource: DataSource;
  certificates: CertificatesService;
  authPolicy: AuthPolicyService;
  users: UsersService;
  audit: AuditService;
  sessions: SessionRegistry;
  verifier: ClientCertificateVerifier;
  crl: CrlService;
  ocsp: OcspService;
  domainCa: DomainCaService;
  tls: CaTlsCredentials;
  addresses: AddressRegistryService;
  /** Creates an active user with a password and returns their record and caller. */
  user(
    userId: string,
    profile?: { displayName?: string; email?: string },
  ): Promise<{ record: UserRecord; key: string; caller: CertificateCaller }>;
  close(): Promise<void>;
}

/**
 * Starts the PKI module (with migrations run) on a fresh database, or on `database`
 * when given (e.g. to start a second time on the same one).
 */
export async function startPkiServices(
  env: Record<string, string> = {},
  shared?: { database: TestDatabase },
): Promise<PkiTestContext> {
  const database = shared?.database ?? (await createTestDatabase());
  const config = loadConfig({
    IRP_DATA_DIR: 'memory',
    IRP_DOMAIN: 'example.com',
    IRP_LOG_LEVEL: 'error',
    IRP_CA_ALGORITHM: 'P-256',
    IRP_MASTER_KEY: '11'.repeat(32),
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      DatabaseModule,
      TestSessionRegistryModule,
      CertificatesModule,
    ],
  }).compile();
  moduleRef.useLogger(['error']);
  await moduleRef.init();
  const users = moduleRef.get(UsersService);
  const dataSource = moduleRef.get(DataSource);
  return {
    moduleRef,
    config,
    database,
    dataSource,
    certificates: moduleRef.get(CertificatesService),
    authPolicy: moduleRef.get(AuthPolicyService),
    users,
    audit: moduleRef.get(AuditService),
    sessions: moduleRef.get(SessionRegistry),
    verifier: moduleRef.get(ClientCertificateVerifier),
    crl: moduleRef.get(CrlService),
    ocsp: moduleRef.get(OcspService),
    domainCa: moduleRef.get(DomainCaService),
    tls: moduleRef.get(CaTlsCredentials),
    addresses: moduleRef.get(AddressRegistryService),
    async user(userId, profile = {}) {
      const record = await users.createUser(OPERATOR, {
        userId,
        password: 'a long enough password',
        profile,
      });
      const found = await users.findByUserId(userId);
      if (!found) throw new Error('user not created');
      return {
        record,
        key: found.id,
        caller: {
          userKey: found.id,
          userId,
          actor: { kind: 'user', id: userId, authMethod: 'upa', sourceAddress: '192.0.2.1' },
        },
      };
    },
    async close() {
      await moduleRef.close();
      if (!shared) await database.drop();
    },
  };
}
