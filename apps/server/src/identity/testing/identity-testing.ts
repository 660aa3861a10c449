/**
 * Test support (excluded from the build): the identity and audit services on a real
 * database — a fresh PostgreSQL database when TEST_DATABASE_URL is set, else the
 * embedded one in memory — with a controllable clock and an in-process session
 * registry.
 */
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../../../../../test/support/test-database.js';
import { ConfigModule } from '../../config/config.module.js';
import { loadConfig, type IrpConfig } from '../../config/config.schema.js';
import { DatabaseModule } from '../../database/database.module.js';
import { SessionRegistry } from '../../transport/session-registry.service.js';
import { AuditService } from '../../audit/audit.service.js';
import { AuthService } from '../auth.service.js';
import { Clock } from '../clock.js';
import { IdentityModule } from '../identity.module.js';
import { SCA_AUTHENTICATOR, type ScaAuthenticator } from '../sca-authenticator.js';
import { UsersService } from '../users.service.js';

@Global()
@Module({ providers: [SessionRegistry], exports: [SessionRegistry] })
class TestSessionRegistryModule {}

/** Stands in for the PKI feature's global module that provides the SCA check. */
@Global()
@Module({})
class TestScaModule {
  static with(sca: ScaAuthenticator): DynamicModule {
    return {
      module: TestScaModule,
      providers: [{ provide: SCA_AUTHENTICATOR, useValue: sca }],
      exports: [SCA_AUTHENTICATOR],
    };
  }
}

/** A clock tests set and move; starts at the real time. */
export class ManualClock extends Clock {
  private t = Date.now();
  override now(): Date {
    return new Date(this.t);
  }
  set(at: Date | number): void {
    this.t = typeof at === 'number' ? at : at.getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface IdentityTestContext {
  moduleRef: TestingModule;
  config: IrpConfig;
  dataSource: DataSource;
  users: UsersService;
  auth: AuthService;
  audit: AuditService;
  sessions: SessionRegistry;
  clock: ManualClock;
  close(): Promise<void>;
}

/** Starts the identity module (with migrations run) on a fresh database. */
export async function startIdentityServices(
  env: Record<string, string> = {},
  options: { sca?: ScaAuthenticator } = {},
): Promise<IdentityTestContext> {
  const database = await createTestDatabase();
  const config = loadConfig({
    IRP_DATA_DIR: 'memory',
    IRP_DOMAIN: 'example.com',
    IRP_LOG_LEVEL: 'warn',
    IRP_RATE_LOGIN_PER_MIN: '100000',
    IRP_RATE_REGISTER_PER_MIN: '100000',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const clock = new ManualClock();
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      DatabaseModule,
      TestSessionRegistryModule,
      ...(options.sca ? [TestScaModule.with(options.sca)] : []),
      IdentityModule,
    ],
  })
    .overrideProvider(Clock)
    .useValue(clock)
    .compile();
  await moduleRef.init();
  return {
    moduleRef,
    config,
    dataSource: moduleRef.get(DataSource),
    users: moduleRef.get(UsersService),
    auth: moduleRef.get(AuthService),
    audit: moduleRef.get(AuditService),
    sessions: moduleRef.get(SessionRegistry),
    clock,
    async close() {
      await moduleRef.close();
      await database.drop();
    },
  };
}
