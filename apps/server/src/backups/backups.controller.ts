import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  type DeletePkcs12Command,
  type DownloadPkcs12Command,
  type ListPkcs12Command,
  type UploadPkcs12Command,
} from '@irp/protocol';
import { IrpController } from '../common/irp-controller.decorator.js';
import { type IrpReply } from '../common/irp-reply.js';
import { AuthService } from '../identity/auth.service.js';
import { type IrpSession } from '../transport/irp-session.js';
import { IrpContext } from '../transport/irp.context.js';
import { type BackupOwner, BackupsService } from './backups.service.js';

/** IRP handlers of the PKCS#12 backups (spec §10). Thin: the rules are in {@link BackupsService}. */
@IrpController()
export class BackupsController {
  constructor(
    private readonly auth: AuthService,
    private readonly backups: BackupsService,
  ) {}

  /** `uploadPkcs12` → `<pkcs12 id name size sha256 createdAt/>`. */
  @MessagePattern('uploadPkcs12')
  async uploadPkcs12(
    @Payload() command: UploadPkcs12Command,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'uploadPkcs12'>> {
    const owner = await this.ownerOf(ctx.session);
    return { data: { pkcs12: await this.backups.upload(owner, command.name, command.data) } };
  }

  /** `listPkcs12` → the caller's `<pkcs12 …/>` entries. */
  @MessagePattern('listPkcs12')
  async listPkcs12(
    @Payload() _command: ListPkcs12Command,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'listPkcs12'>> {
    return { data: { pkcs12: await this.backups.list(await this.ownerOf(ctx.session)) } };
  }

  /** `downloadPkcs12` → `<pkcs12 …>base64</pkcs12>`. */
  @MessagePattern('downloadPkcs12')
  async downloadPkcs12(
    @Payload() command: DownloadPkcs12Command,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'downloadPkcs12'>> {
    const owner = await this.ownerOf(ctx.session);
    return { data: { pkcs12: await this.backups.download(owner, command.pkcs12Id) } };
  }

  /** `deletePkcs12`. */
  @MessagePattern('deletePkcs12')
  async deletePkcs12(
    @Payload() command: DeletePkcs12Command,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'deletePkcs12'>> {
    await this.backups.delete(await this.ownerOf(ctx.session), command.pkcs12Id);
    return {};
  }

  private async ownerOf(session: IrpSession): Promise<BackupOwner> {
    const me = await this.auth.sessionUser(session);
    return {
      userKey: me.entity.id,
      userId: me.entity.userId,
      actor: {
        kind: 'user',
        id: me.entity.userId,
        authMethod: me.method,
        sourceAddress: session.peer.address,
        txn: session.txn,
      },
    };
  }
}
