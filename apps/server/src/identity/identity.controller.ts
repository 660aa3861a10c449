import { Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  type ChangePasswordCommand,
  type EnrollCommand,
  type InfoCommand,
  IrpProtocolError,
  type ListUsersCommand,
  type LoginCommand,
  type RegisterCommand,
  type SessionData,
  ResultCode,
  type UpdateCommand,
} from '@irp/protocol';
import { type Actor } from '../audit/actor.js';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import { IrpController } from '../common/irp-controller.decorator.js';
import { type IrpReply } from '../common/irp-reply.js';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { type IrpSession } from '../transport/irp-session.js';
import { IrpContext } from '../transport/irp.context.js';
import { AuthService, CREDENTIAL_STAMP } from './auth.service.js';
import { type Authenticated, type SessionUser } from './dto/identity.dto.js';
import { UsersService } from './users.service.js';

/** Session attribute: failed logins on this connection (spec §6.3, the 2501 rule). */
const FAILED_LOGINS = Symbol('identity.failedLogins');

function origin(session: IrpSession): { sourceAddress: string; txn: string } {
  return { sourceAddress: session.peer.address, txn: session.txn };
}

function actorOf(session: IrpSession, me: SessionUser): Actor {
  return { kind: 'user', id: me.entity.userId, authMethod: me.method, ...origin(session) };
}

/** Spec §5 2002: login and enroll are for an unauthenticated session. */
function requireUnauthenticated(session: IrpSession): void {
  if (session.state === 'authenticated') {
    throw new DomainError(
      DomainErrorCode.UseError,
      'Command use error: the session is already logged in',
    );
  }
}

function isLoginFailure(error: unknown): boolean {
  return (
    (error instanceof DomainError && error.code === DomainErrorCode.AuthenticationFailed) ||
    (error instanceof IrpProtocolError && error.code === ResultCode.AuthenticationErrorClosing)
  );
}

/**
 * IRP handlers of the identity directory and authentication (spec §6.2–§6.4, §7.2).
 * Thin: every rule is in {@link AuthService} and {@link UsersService}.
 */
@IrpController()
export class IdentityController {
  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  /** `login` (spec §6.2, §6.3) → `<session/>` and the user's record (§6.4). */
  @MessagePattern('login')
  async login(
    @Payload() command: LoginCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'login'>> {
    const session = ctx.session;
    requireUnauthenticated(session);
    const failures = (session.attributes.get(FAILED_LOGINS) as number | undefined) ?? 0;
    const context = { ...origin(session), failuresOnConnection: failures };
    let result: Authenticated;
    try {
      result =
        command.method === 'upa'
          ? await this.auth.loginWithPassword(
              { user: command.user, password: command.password, newPassword: command.newPassword },
              context,
            )
          : await this.auth.loginWithCertificate(session.peer, context);
    } catch (error) {
      if (isLoginFailure(error)) session.attributes.set(FAILED_LOGINS, failures + 1);
      throw error;
    }
    return this.logIn(session, result);
  }

  /** `enroll` (spec §7.2): activates a pending account and logs the session in. */
  @MessagePattern('enroll')
  async enroll(
    @Payload() command: EnrollCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'enroll'>> {
    requireUnauthenticated(ctx.session);
    const result = await this.auth.enroll(
      { userId: command.userId, code: command.code, password: command.password },
      origin(ctx.session),
    );
    return this.logIn(ctx.session, result);
  }

  /** `register` (spec §7.2): creates an active user; does not log the session in. */
  @MessagePattern('register')
  async register(
    @Payload() command: RegisterCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'register'>> {
    const user = await this.users.register(
      { userId: command.userId, password: command.password, profile: command.profile },
      origin(ctx.session),
    );
    return { data: { user } };
  }

  /** `info` (spec §7.2): own record, or another user's public record. */
  @MessagePattern('info')
  async info(@Payload() command: InfoCommand, @Ctx() ctx: IrpContext): Promise<IrpReply<'info'>> {
    const me = await this.auth.sessionUser(ctx.session);
    return { data: { user: await this.users.info(me.entity, command.user) } };
  }

  /** `update` (spec §7.2): own profile fields. */
  @MessagePattern('update')
  async update(
    @Payload() command: UpdateCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'update'>> {
    const me = await this.auth.sessionUser(ctx.session);
    const user = await this.users.updateProfile(actorOf(ctx.session, me), me.entity, {
      profile: command.profile,
      namesUserId: command.namesUserId,
      namesStatus: command.namesStatus,
    });
    return { data: { user } };
  }

  /** `listUsers` (spec §7.2). */
  @MessagePattern('listUsers')
  async listUsers(
    @Payload() command: ListUsersCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'listUsers'>> {
    await this.auth.sessionUser(ctx.session);
    const users = await this.users.listUsers({
      filter: command.filter,
      offset: command.offset,
      limit: command.limit,
    });
    return { data: { users } };
  }

  /** `changePassword` (spec §7.2). */
  @MessagePattern('changePassword')
  async changePassword(
    @Payload() command: ChangePasswordCommand,
    @Ctx() ctx: IrpContext,
  ): Promise<IrpReply<'changePassword'>> {
    const me = await this.auth.sessionUser(ctx.session);
    await this.auth.changePassword(me, command.oldPassword, command.newPassword, {
      ...origin(ctx.session),
      keepSession: ctx.session,
    });
    return {};
  }

  private logIn(session: IrpSession, result: Authenticated): { data: SessionData } {
    session.authenticate(result.principal);
    session.attributes.set(CREDENTIAL_STAMP, result.credentialStamp);
    session.attributes.delete(FAILED_LOGINS);
    return {
      data: {
        session: {
          method: result.principal.method,
          user: result.principal.address,
          expiresIdleSeconds: this.config.idleTimeoutSeconds,
        },
        user: result.user,
      },
    };
  }
}
