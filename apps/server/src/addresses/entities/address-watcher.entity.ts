import { type WatcherStatus } from '@irp/protocol';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An approved watcher or a pending watch request (spec §8.1). Table `irp_address_watcher`. */
@Entity({ name: 'irp_address_watcher' })
export class AddressWatcherEntity {
  @PrimaryColumn({ name: 'owner_key', type: 'uuid' })
  ownerKey!: string;

  @PrimaryColumn({ name: 'watcher_key', type: 'uuid' })
  watcherKey!: string;

  @Column({ type: 'text' })
  status!: WatcherStatus;

  /** When the request was made (pending) or approved (approved). */
  @Column({ type: 'timestamptz' })
  since!: Date;
}
