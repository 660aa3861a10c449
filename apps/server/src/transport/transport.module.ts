import { Global, Module } from '@nestjs/common';
import { IrpTransportStrategy } from './irp-transport.strategy.js';
import { SessionRegistry } from './session-registry.service.js';
import { FileTlsCredentials, TLS_CREDENTIALS } from './tls-credentials.js';

/**
 * The IRP transport and the session registry. Global, because every feature that
 * pushes notifies or closes sessions needs the registry.
 */
@Global()
@Module({
  providers: [
    IrpTransportStrategy,
    SessionRegistry,
    { provide: TLS_CREDENTIALS, useClass: FileTlsCredentials },
  ],
  exports: [IrpTransportStrategy, SessionRegistry, TLS_CREDENTIALS],
})
export class TransportModule {}
