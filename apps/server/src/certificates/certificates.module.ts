import { Global, Module } from '@nestjs/common';
import { AddressesModule } from '../addresses/addresses.module.js';
import { USER_CERTIFICATES } from '../addresses/user-certificates.js';
import { AuditModule } from '../audit/audit.module.js';
import { EventsModule } from '../events/events.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { SCA_AUTHENTICATOR } from '../identity/sca-authenticator.js';
import { CLIENT_CERTIFICATE_INSPECTOR } from '../transport/client-certificate-inspector.js';
import { TLS_CREDENTIALS } from '../transport/tls-credentials.js';
import { AuthPolicyService } from './auth-policy.service.js';
import { CaTlsCredentials } from './ca-tls-credentials.js';
import { CertificateEventsService } from './certificate-events.service.js';
import { CertificatesController } from './certificates.controller.js';
import { CertificatesService } from './certificates.service.js';
import { ClientCertificateVerifier } from './client-certificate-verifier.service.js';
import { CrlService } from './crl.service.js';
import { DomainCaService } from './domain-ca.service.js';
import { OcspService } from './ocsp.service.js';
import { PkiHttpController } from './pki-http.controller.js';
import { UserCertificatesProvider } from './user-certificates.provider.js';

/**
 * The PKI (spec §6.2, §6.6, §7.2 `setAuthPolicy`, §9): the domain CA, the certificate
 * lifecycle, CRL and OCSP over HTTP, and what other features take from it through
 * their tokens — global so that they find them:
 *
 * - `TLS_CREDENTIALS` (transport): the listener's certificate from the issuing CA;
 * - `CLIENT_CERTIFICATE_INSPECTOR` (transport): the greeting's `clientCertificate`;
 * - `SCA_AUTHENTICATOR` (identity): `login method="sca"`;
 * - `USER_CERTIFICATES` (address registry): a user's valid certificates.
 */
@Global()
@Module({
  imports: [AuditModule, EventsModule, IdentityModule, AddressesModule],
  controllers: [CertificatesController, PkiHttpController],
  providers: [
    DomainCaService,
    CrlService,
    OcspService,
    CertificateEventsService,
    CertificatesService,
    AuthPolicyService,
    ClientCertificateVerifier,
    UserCertificatesProvider,
    CaTlsCredentials,
    { provide: TLS_CREDENTIALS, useExisting: CaTlsCredentials },
    { provide: CLIENT_CERTIFICATE_INSPECTOR, useExisting: ClientCertificateVerifier },
    { provide: SCA_AUTHENTICATOR, useExisting: ClientCertificateVerifier },
    { provide: USER_CERTIFICATES, useExisting: UserCertificatesProvider },
  ],
  exports: [
    CertificatesService,
    TLS_CREDENTIALS,
    CLIENT_CERTIFICATE_INSPECTOR,
    SCA_AUTHENTICATOR,
    USER_CERTIFICATES,
  ],
})
export class CertificatesModule {}
