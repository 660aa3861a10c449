import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { EVENT_BUS, type EventBus } from '../events/event-bus.js';
import { ADDRESS_TOPIC, encodeAddressEvent } from './address-events.js';
import { AddressRepository } from './address.repository.js';

/** Bindings deleted per purge transaction. */
const PURGE_BATCH = 500;

/**
 * Deletes lapsed bindings in the background and announces each owner's lapse
 * (spec §8: a lapsed binding counts as removed and its watchers are notified).
 * Every instance runs one; they share the work (SKIP LOCKED), and each lapse is
 * published once, in the transaction that deleted it. Reads never wait for it: a
 * lapsed binding is filtered out by its expiry everywhere.
 */
@Injectable()
export class AddressPurger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('AddressPurger');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly repository: AddressRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.purge()
        .catch((error: unknown) => {
          this.log.warn(`purge failed: ${error instanceof Error ? error.message : String(error)}`);
          return 0;
        })
        .then(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.config.addressPurgeIntervalMs);
    this.timer.unref();
  }

  /** Purges every lapsed binding now, in batches; returns how many owners lost bindings. */
  async purge(): Promise<number> {
    let owners = 0;
    for (;;) {
      const { deleted, owners: lapsed } = await this.dataSource.transaction(async (m) => {
        const result = await this.repository.purgeLapsed(m, PURGE_BATCH);
        for (const owner of result.owners) {
          await this.bus.publish(m, ADDRESS_TOPIC, encodeAddressEvent({ k: 'presence', o: owner }));
        }
        return result;
      });
      owners += lapsed.length;
      if (deleted < PURGE_BATCH || this.stopped) return owners;
    }
  }
}
