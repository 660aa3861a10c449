import { BaseRpcContext } from '@nestjs/microservices';
import { type IrpSession } from './irp-session.js';

/** The context of an IRP command handler: `@Ctx() ctx: IrpContext`. */
export class IrpContext extends BaseRpcContext<[IrpSession]> {
  /** The session of the connection the command came on. */
  get session(): IrpSession {
    return this.args[0];
  }
}
