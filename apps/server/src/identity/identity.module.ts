import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { EventsModule } from '../events/events.module.js';
import { AuthService } from './auth.service.js';
import { Clock } from './clock.js';
import { IdentityHousekeeping } from './identity-housekeeping.service.js';
import { IdentityController } from './identity.controller.js';
import { LoginBatcher } from './login-batcher.js';
import { LoginThrottle } from './login-throttle.service.js';
import { PasswordHasher } from './password-hasher.service.js';
import { SourceRateLimiter } from './source-rate-limiter.service.js';
import { UserStateCache } from './user-state.cache.js';
import { UsersService } from './users.service.js';

/**
 * The identity directory and authentication (spec §6.2–§6.5, §7): users, enrollment,
 * UPA login, lockout and rate limits. The SCA check comes from the PKI feature
 * through the optional `SCA_AUTHENTICATOR` provider (a global module of theirs).
 * User-row changes are announced on the event bus (`user_changed`), which keeps the
 * per-instance {@link UserStateCache} of the session check coherent (spec §12).
 */
@Module({
  imports: [AuditModule, EventsModule],
  controllers: [IdentityController],
  providers: [
    UsersService,
    AuthService,
    PasswordHasher,
    LoginThrottle,
    SourceRateLimiter,
    Clock,
    IdentityHousekeeping,
    UserStateCache,
    LoginBatcher,
  ],
  exports: [UsersService, AuthService, UserStateCache],
})
export class IdentityModule {}
