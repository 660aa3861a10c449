import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type UserRecord } from '@irp/protocol';
import { DataSource, In } from 'typeorm';
import { type Actor } from '../audit/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { UsersService } from '../identity/users.service.js';
import { type AuthMethod } from '../transport/irp-session.js';
import { isValid } from './certificate-records.js';
import { CertificateEntity } from './entities/certificate.entity.js';

/** The caller of `setAuthPolicy`: a logged-in user and how they logged in. */
export interface AuthPolicyCaller {
  userKey: string;
  userId: string;
  method: AuthMethod;
  /** SCA: serial of the certificate the session authenticated with. */
  certificateSerial?: string | undefined;
  actor: Actor;
}

/**
 * `setAuthPolicy` (spec §7.2, §6.3): a user disables or re-enables UPA for their own
 * account, from a session authenticated by SCA only (any other → 2201). Disabling
 * needs a valid certificate of theirs: the one the session authenticated with must
 * still be valid — not revoked, superseded or expired — at this moment (else 2304),
 * so the user can still log in afterwards. The change itself is the identity
 * directory's `setUpaEnabled` (its audit row records it); a refusal is audited here
 * as `setAuthPolicy`.
 */
@Injectable()
export class AuthPolicyService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly users: UsersService,
  ) {}

  async setAuthPolicy(caller: AuthPolicyCaller, upa: boolean): Promise<UserRecord> {
    await this.audit.action(
      {
        actor: caller.actor,
        action: 'setAuthPolicy',
        target: caller.userId,
        details: { upa },
      },
      async () => {
        if (caller.method !== 'sca' || !caller.certificateSerial) {
          throw new DomainError(
            DomainErrorCode.Forbidden,
            'Authorization error: setAuthPolicy needs a session authenticated by SCA',
          );
        }
        if (!upa) {
          const certificate = await this.dataSource.manager.findOne(CertificateEntity, {
            where: {
              userKey: caller.userKey,
              serial: caller.certificateSerial,
              profile: In(['user', 'device']),
            },
          });
          if (!certificate || !isValid(certificate)) {
            throw new DomainError(
              DomainErrorCode.StatusProhibits,
              'Object status prohibits operation: disabling UPA needs a valid certificate of yours',
            );
          }
        }
        // nothing to commit here: the identity directory writes the change and its row
      },
    );
    return this.users.setUpaEnabled(caller.actor, caller.userId, upa);
  }
}
