import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { EventsModule } from '../events/events.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { AddressPurger } from './address-purger.service.js';
import { AddressRegistryService } from './address-registry.service.js';
import { AddressRepository } from './address.repository.js';
import { AddressesController } from './addresses.controller.js';
import { OwnerViewCache } from './owner-view.cache.js';
import { PresenceHub } from './presence-hub.service.js';
import { RegistrationBatcher } from './registration-batcher.js';
import { UserCertificatesPort } from './user-certificates.js';

/**
 * The address registry and presence, End2End Direct (spec §8, §8.1, §8.2, §11).
 * Certificate data comes from the optional `USER_CERTIFICATES` provider (the PKI
 * feature's global module); changes reach every instance through the event bus.
 */
@Module({
  imports: [AuditModule, DatabaseModule, EventsModule, IdentityModule],
  controllers: [AddressesController],
  providers: [
    AddressRegistryService,
    AddressRepository,
    OwnerViewCache,
    PresenceHub,
    AddressPurger,
    RegistrationBatcher,
    UserCertificatesPort,
  ],
  exports: [AddressRegistryService, UserCertificatesPort],
})
export class AddressesModule {}
