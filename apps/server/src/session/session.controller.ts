import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { type HelloCommand, ResultCode } from '@irp/protocol';
import { IrpController } from '../common/irp-controller.decorator.js';
import { type IrpReply } from '../common/irp-reply.js';
import { IrpContext } from '../transport/irp.context.js';

/** Session commands of spec §6.5: hello, ping, logout. */
@IrpController()
export class SessionController {
  /** `hello` → the greeting, as it stands now, inside the response (spec §6.5, §6.6). */
  @MessagePattern('hello')
  async hello(
    @Payload() _command: HelloCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'hello'>> {
    return { data: { greeting: await ctx.session.greeting() } };
  }

  /** `ping` → 1000; any frame resets the idle timer, so this keeps a session alive. */
  @MessagePattern('ping')
  ping(): IrpReply<'ping'> {
    return {};
  }

  /** `logout` → 1500, then the transport closes the connection. */
  @MessagePattern('logout')
  logout(): IrpReply<'logout'> {
    return { code: ResultCode.SuccessEnding };
  }
}
