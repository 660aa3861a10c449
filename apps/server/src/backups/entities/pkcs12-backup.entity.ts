import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A PKCS#12 key backup (spec §10), stored exactly as uploaded: the server checks its
 * PFX structure but never decrypts it. Table `irp_pkcs12`.
 */
@Entity({ name: 'irp_pkcs12' })
export class Pkcs12BackupEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_key', type: 'uuid' })
  userKey!: string;

  @Column({ type: 'text' })
  name!: string;

  /** The file, byte for byte (≤ 64 KiB). Not selected by listings. */
  @Column({ type: 'bytea', select: false })
  data!: Buffer;

  @Column({ type: 'integer' })
  size!: number;

  @Column({ type: 'text' })
  sha256!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
