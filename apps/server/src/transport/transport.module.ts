import { Global, Module } from '@nestjs/common';
import { IrpTransportStrategy } from './irp-transport.strategy.js';
import { SessionRegistry } from './session-registry.service.js';

/**
 * The IRP transport and the session registry. Global, because every feature that
 * pushes notifies or closes sessions needs the registry. The listener's credentials
 * (`TLS_CREDENTIALS`) come from the PKI feature's global module (CA-issued).
 */
@Global()
@Module({
  providers: [IrpTransportStrategy, SessionRegistry],
  exports: [IrpTransportStrategy, SessionRegistry],
})
export class TransportModule {}
