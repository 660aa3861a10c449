import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Attempts of one source address in the current one-minute window. Table `irp_rate_limit`. */
@Entity({ name: 'irp_rate_limit' })
export class RateLimitEntity {
  /** `login` or `register`. */
  @PrimaryColumn({ type: 'text' })
  bucket!: string;

  /** The source address (IPv6: its /64 prefix). */
  @PrimaryColumn({ type: 'text' })
  source!: string;

  @Column({ name: 'window_start', type: 'timestamptz' })
  windowStart!: Date;

  @Column({ type: 'integer' })
  hits!: number;
}
