import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  type CertificateStatusCommand,
  type GetCACertificatesCommand,
  type GetCertificateCommand,
  type ListCertificatesCommand,
  type RequestCertificateCommand,
  ResultCode,
  type RevokeCertificateCommand,
  type SetAuthPolicyCommand,
  type UploadCertificateCommand,
} from '@irp/protocol';
import { type Actor } from '../audit/actor.js';
import { IrpController } from '../common/irp-controller.decorator.js';
import { type IrpReply } from '../common/irp-reply.js';
import { AuthService } from '../identity/auth.service.js';
import { type SessionUser } from '../identity/dto/identity.dto.js';
import { type IrpSession } from '../transport/irp-session.js';
import { IrpContext } from '../transport/irp.context.js';
import { AuthPolicyService } from './auth-policy.service.js';
import { type CertificateCaller, CertificatesService } from './certificates.service.js';

function actorOf(session: IrpSession, me: SessionUser): Actor {
  return {
    kind: 'user',
    id: me.entity.userId,
    authMethod: me.method,
    sourceAddress: session.peer.address,
    txn: session.txn,
  };
}

/**
 * IRP handlers of the PKI (spec §9) and of `setAuthPolicy` (spec §7.2). Thin: the
 * rules are in {@link CertificatesService} and {@link AuthPolicyService}. The
 * transport has already refused everything but `getCACertificates` before login.
 */
@IrpController()
export class CertificatesController {
  constructor(
    private readonly auth: AuthService,
    private readonly certificates: CertificatesService,
    private readonly authPolicy: AuthPolicyService,
  ) {}

  /** `getCACertificates` → the CA `<certificate>`s, `<crl url>`, `<ocsp url>` (also before login). */
  @MessagePattern('getCACertificates')
  async getCACertificates(
    @Payload() _command: GetCACertificatesCommand,
  ): Promise<IrpReply<'getCACertificates'>> {
    return { data: await this.certificates.caCertificates() };
  }

  /** `requestCertificate` → 1000 `<certificate>` + `<chain>` (+ `<pkcs12>`), or 1001 `<request>` + `<chain>`. */
  @MessagePattern('requestCertificate')
  async requestCertificate(
    @Payload() command: RequestCertificateCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'requestCertificate'>> {
    const outcome = await this.certificates.requestCertificate(await this.callerOf(ctx.session), {
      profile: command.profile,
      key: command.key,
      validityDays: command.validityDays,
      renews: command.renews,
    });
    if (outcome.status === 'pending') {
      return {
        code: ResultCode.SuccessPending,
        data: { request: outcome.request, chain: outcome.chain },
      };
    }
    return {
      data: {
        certificate: outcome.certificate,
        chain: outcome.chain,
        ...(outcome.pkcs12 ? { pkcs12: outcome.pkcs12 } : {}),
      },
    };
  }

  /** `listCertificates` → `<certificate …/>` without PEM. */
  @MessagePattern('listCertificates')
  async listCertificates(
    @Payload() command: ListCertificatesCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'listCertificates'>> {
    const caller = await this.callerOf(ctx.session);
    return {
      data: { certificates: await this.certificates.listCertificates(caller, command.user) },
    };
  }

  /** `getCertificate` → `<certificate>` elements with PEM. */
  @MessagePattern('getCertificate')
  async getCertificate(
    @Payload() command: GetCertificateCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'getCertificate'>> {
    const caller = await this.callerOf(ctx.session);
    return {
      data: { certificates: await this.certificates.getCertificate(caller, command.query) },
    };
  }

  /** `uploadCertificate` → the stored `<certificate profile="uploaded">`. */
  @MessagePattern('uploadCertificate')
  async uploadCertificate(
    @Payload() command: UploadCertificateCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'uploadCertificate'>> {
    const caller = await this.callerOf(ctx.session);
    const certificate = await this.certificates.uploadCertificate(
      caller,
      command.certificate,
      command.chain,
    );
    return { data: { certificate } };
  }

  /** `revokeCertificate` → the revoked `<certificate …/>`; the session closes after it if it was SCA with it. */
  @MessagePattern('revokeCertificate')
  async revokeCertificate(
    @Payload() command: RevokeCertificateCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'revokeCertificate'>> {
    const caller = await this.callerOf(ctx.session);
    const certificate = await this.certificates.revokeCertificate(
      caller,
      command.serial,
      command.reason ?? 'unspecified',
    );
    return { data: { certificate } };
  }

  /** `certificateStatus` → `<certificate serial sha256 status …/>`. */
  @MessagePattern('certificateStatus')
  async certificateStatus(
    @Payload() command: CertificateStatusCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'certificateStatus'>> {
    await this.auth.sessionUser(ctx.session);
    return { data: { certificate: await this.certificates.certificateStatus(command.query) } };
  }

  /** `setAuthPolicy upa` (spec §7.2) → the user's record. */
  @MessagePattern('setAuthPolicy')
  async setAuthPolicy(
    @Payload() command: SetAuthPolicyCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'setAuthPolicy'>> {
    const session = ctx.session;
    const me = await this.auth.sessionUser(session);
    const user = await this.authPolicy.setAuthPolicy(
      {
        userKey: me.entity.id,
        userId: me.entity.userId,
        method: me.method,
        certificateSerial: session.principal?.certificateSerial,
        actor: actorOf(session, me),
      },
      command.upa,
    );
    return { data: { user } };
  }

  private async callerOf(session: IrpSession): Promise<CertificateCaller> {
    const me = await this.auth.sessionUser(session);
    return {
      userKey: me.entity.id,
      userId: me.entity.userId,
      actor: actorOf(session, me),
      session,
    };
  }
}
