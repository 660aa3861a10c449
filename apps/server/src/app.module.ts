import { type DynamicModule, Module } from '@nestjs/common';
import { AddressesModule } from './addresses/addresses.module.js';
import { AuditModule } from './audit/audit.module.js';
import { BackupsModule } from './backups/backups.module.js';
import { CertificatesModule } from './certificates/certificates.module.js';
import { ConfigModule } from './config/config.module.js';
import { type IrpConfig } from './config/config.schema.js';
import { DatabaseModule } from './database/database.module.js';
import { HttpModule } from './http/http.module.js';
import { IdentityModule } from './identity/identity.module.js';
import { SessionModule } from './session/session.module.js';
import { TransportModule } from './transport/transport.module.js';

/** The whole server. `config` is given by tests; production reads the environment. */
@Module({})
export class AppModule {
  static forRoot(config?: IrpConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        TransportModule,
        SessionModule,
        HttpModule,
        AuditModule,
        IdentityModule,
        AddressesModule,
        CertificatesModule,
        BackupsModule,
      ],
    };
  }
}
