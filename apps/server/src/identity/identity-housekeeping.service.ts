import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from './clock.js';
import { LoginThrottle } from './login-throttle.service.js';
import { SourceRateLimiter } from './source-rate-limiter.service.js';

/** How often expired lockout and rate-limit rows are dropped. */
const PURGE_EVERY_MS = 10 * 60_000;

/**
 * Drops lockout rows that no longer matter and ended rate-limit windows, so that
 * attempts on made-up user ids or from many addresses do not grow the tables forever.
 */
@Injectable()
export class IdentityHousekeeping implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('IdentityHousekeeping');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly throttle: LoginThrottle,
    private readonly limiter: SourceRateLimiter,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (this.timer) return; // a hybrid app may run bootstrap hooks twice
    this.timer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One purge pass (also called by tests). */
  async purge(): Promise<void> {
    try {
      const now = this.clock.now();
      await this.throttle.purge(this.dataSource.manager, now);
      await this.limiter.purge(this.dataSource.manager, now);
    } catch (error) {
      this.log.warn(`purge failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
