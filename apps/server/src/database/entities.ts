import { AddressBindingEntity } from '../addresses/entities/address-binding.entity.js';
import { AddressPolicyEntity } from '../addresses/entities/address-policy.entity.js';
import { AddressWatcherEntity } from '../addresses/entities/address-watcher.entity.js';
import { AuditEntryEntity } from '../audit/audit-entry.entity.js';
import { Pkcs12BackupEntity } from '../backups/entities/pkcs12-backup.entity.js';
import { CaEntity } from '../certificates/entities/ca.entity.js';
import { CertificateRequestEntity } from '../certificates/entities/certificate-request.entity.js';
import { CertificateEntity } from '../certificates/entities/certificate.entity.js';
import { CrlEntity } from '../certificates/entities/crl.entity.js';
import { EnrollmentCodeEntity } from '../identity/entities/enrollment-code.entity.js';
import { LoginThrottleEntity } from '../identity/entities/login-throttle.entity.js';
import { RateLimitEntity } from '../identity/entities/rate-limit.entity.js';
import { UserEntity } from '../identity/entities/user.entity.js';

/** Every entity of the server; the Nest module and the CLI data source both use this list. */
export const ENTITIES: (new () => object)[] = [
  AuditEntryEntity,
  UserEntity,
  EnrollmentCodeEntity,
  LoginThrottleEntity,
  RateLimitEntity,
  AddressBindingEntity,
  AddressPolicyEntity,
  AddressWatcherEntity,
  CaEntity,
  CertificateEntity,
  CertificateRequestEntity,
  CrlEntity,
  Pkcs12BackupEntity,
];
