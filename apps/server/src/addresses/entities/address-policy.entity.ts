import { type AddressVisibility } from '@irp/protocol';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A user's address policy (spec §8.1); no row means `domain`. Table `irp_address_policy`. */
@Entity({ name: 'irp_address_policy' })
export class AddressPolicyEntity {
  @PrimaryColumn({ name: 'user_key', type: 'uuid' })
  userKey!: string;

  @Column({ type: 'text' })
  visibility!: AddressVisibility;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
