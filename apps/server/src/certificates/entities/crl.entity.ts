import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The current CRL of the issuing CA (spec §9), one row (`id = 1`). Table `irp_crl`. */
@Entity({ name: 'irp_crl' })
export class CrlEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  /** Number of the current CRL (RFC 5280 §5.2.3); int8 as a string, as `pg` returns it. */
  @Column({ name: 'crl_number', type: 'bigint' })
  crlNumber!: string;

  /** DER of the current CRL; null until the first one is issued. */
  @Column({ type: 'bytea', nullable: true })
  der!: Buffer | null;

  @Column({ name: 'this_update', type: 'timestamptz', nullable: true })
  thisUpdate!: Date | null;

  @Column({ name: 'next_update', type: 'timestamptz', nullable: true })
  nextUpdate!: Date | null;
}
