import { Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  type ApproveWatcherCommand,
  type ListWatchersCommand,
  type LookupAddressCommand,
  type RegisterAddressCommand,
  type RemoveWatcherCommand,
  ResultCode,
  type SetAddressPolicyCommand,
  type SubscribeCommand,
  type UnregisterAddressCommand,
  type UnsubscribeCommand,
} from '@irp/protocol';
import { IrpController } from '../common/irp-controller.decorator.js';
import { type IrpReply } from '../common/irp-reply.js';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { AuthService } from '../identity/auth.service.js';
import { type IrpSession } from '../transport/irp-session.js';
import { IrpContext } from '../transport/irp.context.js';
import { type AddressCaller, AddressRegistryService } from './address-registry.service.js';

/**
 * IRP handlers of the address registry (spec §8, §8.1, §8.2). Thin: every rule is in
 * {@link AddressRegistryService}. The transport has already checked that the
 * session is logged in (spec §6.1).
 */
@IrpController()
export class AddressesController {
  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    private readonly auth: AuthService,
    private readonly registry: AddressRegistryService,
  ) {}

  /** `registerAddress` → the stored `<binding>` and `<observed>` (spec §8). */
  @MessagePattern('registerAddress')
  async registerAddress(
    @Payload() command: RegisterAddressCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'registerAddress'>> {
    const session = ctx.session;
    const caller = await this.callerOf(session);
    const { peer } = session;
    return {
      data: await this.registry.register(caller, command, {
        address: peer.address,
        family: peer.family,
        port: peer.port,
      }),
    };
  }

  /** `unregisterAddress` (spec §8). */
  @MessagePattern('unregisterAddress')
  async unregisterAddress(
    @Payload() command: UnregisterAddressCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'unregisterAddress'>> {
    await this.registry.unregister(await this.callerOf(ctx.session), command.device);
    return {};
  }

  /** `lookupAddress` → `<user>` and the `<binding>`s; another domain → 2303 with `<referral>` (spec §8). */
  @MessagePattern('lookupAddress')
  async lookupAddress(
    @Payload() command: LookupAddressCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'lookupAddress'>> {
    const result = await this.registry.lookup(await this.callerOf(ctx.session), command.user);
    if ('referral' in result) {
      return {
        code: ResultCode.ObjectDoesNotExist,
        message: `Object does not exist: the user belongs to ${result.referral}`,
        data: { referral: { domain: result.referral } },
      };
    }
    return { data: { user: result.user, bindings: result.bindings } };
  }

  /** `subscribe` → one `<subscription>` per user; 1001 when any is pending (spec §8.1). */
  @MessagePattern('subscribe')
  async subscribe(
    @Payload() command: SubscribeCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'subscribe'>> {
    const session = ctx.session;
    const result = await this.registry.subscribe(
      await this.callerOf(session),
      session,
      command.users,
    );
    return {
      code: result.pending ? ResultCode.SuccessPending : ResultCode.Success,
      data: { subscriptions: result.subscriptions },
    };
  }

  /** `unsubscribe` (no `<user>`: every subscription of the session). */
  @MessagePattern('unsubscribe')
  async unsubscribe(
    @Payload() command: UnsubscribeCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'unsubscribe'>> {
    await this.callerOf(ctx.session);
    this.registry.unsubscribe(ctx.session, command.users);
    return {};
  }

  /** `setAddressPolicy visibility` (spec §8.1). */
  @MessagePattern('setAddressPolicy')
  async setAddressPolicy(
    @Payload() command: SetAddressPolicyCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'setAddressPolicy'>> {
    await this.registry.setPolicy(await this.callerOf(ctx.session), command.visibility);
    return {};
  }

  /** `listWatchers` → `<watcher user status since/>` elements (spec §8.1). */
  @MessagePattern('listWatchers')
  async listWatchers(
    @Payload() _command: ListWatchersCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'listWatchers'>> {
    return {
      data: { watchers: await this.registry.listWatchers(await this.callerOf(ctx.session)) },
    };
  }

  /** `approveWatcher user` (spec §8.1). */
  @MessagePattern('approveWatcher')
  async approveWatcher(
    @Payload() command: ApproveWatcherCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'approveWatcher'>> {
    await this.registry.approveWatcher(await this.callerOf(ctx.session), command.user);
    return {};
  }

  /** `removeWatcher user` (spec §8.1). */
  @MessagePattern('removeWatcher')
  async removeWatcher(
    @Payload() command: RemoveWatcherCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'removeWatcher'>> {
    await this.registry.removeWatcher(await this.callerOf(ctx.session), command.user);
    return {};
  }

  /** The session's user, re-checked at each command (spec §12), as the registry's caller. */
  private async callerOf(session: IrpSession): Promise<AddressCaller> {
    const me = await this.auth.sessionUser(session);
    const userId = me.entity.userId;
    return {
      userKey: me.entity.id,
      userId,
      address: `${userId}@${this.config.domain}`,
      certificateSerial: session.principal?.certificateSerial,
      actor: {
        kind: 'user',
        id: userId,
        authMethod: me.method,
        sourceAddress: session.peer.address,
        txn: session.txn,
      },
    };
  }
}
