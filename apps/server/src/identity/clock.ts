import { Injectable } from '@nestjs/common';

/**
 * The time source of the identity rules (lock periods, failure windows, rate-limit
 * windows, enrollment code expiry). One injectable, so tests move time instead of
 * sleeping (`vi.spyOn(app.get(Clock), 'now')`). Instances sharing a database should
 * run NTP: lock state in the database is compared with each instance's clock.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
