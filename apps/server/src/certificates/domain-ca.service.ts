import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CaSigner,
  CertificateIssuer,
  OcspResponder,
  type ParsedCertificate,
  PkiError,
  createDomainCa,
  decryptPrivateKey,
  encryptPrivateKey,
  importCa,
  parseCertificate,
  parseCertificates,
} from '@irp/pki';
import { DataSource } from 'typeorm';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { CaEntity } from './entities/ca.entity.js';
import { loadMasterKey } from './master-key.js';

/** The HTTP paths of the PKI endpoints (spec §9), under `IRP_PUBLIC_HTTP_URL`. */
export const PKI_PATHS = {
  chainPem: '/pki/ca.pem',
  issuingCa: '/pki/issuing-ca.crt',
  crl: '/pki/crl',
  ocsp: '/pki/ocsp',
} as const;

/** The public PEM files written into `<IRP_DATA_DIR>/ca` at each start (for operators and tools). */
export const CA_FILES = { root: 'root.pem', chain: 'chain.pem' } as const;

/** The domain CA as the server uses it, loaded once at start. */
export interface LoadedCa {
  /** The issuing CA with its (decrypted, in-memory) key: signs certificates, CRLs, OCSP. */
  readonly signer: CaSigner;
  /** Issues end-entity certificates with the CRL DP and OCSP URLs of this server. */
  readonly issuer: CertificateIssuer;
  readonly ocsp: OcspResponder;
  /** The issuing CA first, up to and including the root (spec §9 `<chain>` order). */
  readonly certificates: readonly ParsedCertificate[];
  /** The trust anchor: the root (the issuing CA itself when it is self-signed or no chain was given). */
  readonly root: ParsedCertificate;
  /** {@link certificates} as one PEM bundle. */
  readonly chainPem: string;
  readonly rootPem: string;
  /** SHA-256 (hex) of the issuing CA's subject: the issuer of every certificate it signs. */
  readonly issuerHash: string;
  readonly urls: { readonly crl: string; readonly ocsp: string; readonly caIssuers: string };
}

/** SHA-256 hex of an issuer Name DER, the way certificates are keyed in the database. */
export function issuerHashOf(nameDer: Uint8Array): string {
  return createHash('sha256').update(nameDer).digest('hex');
}

/** AAD contexts of the key envelopes: bind each envelope to its certificate. */
function keyContext(role: 'issuing' | 'root', certificateSha256: string): string {
  return `irp-ca:${role}:${certificateSha256}`;
}

/**
 * The domain CA (issue 4): created at first start — a root and an issuing
 * intermediate, `IRP_CA_ALGORITHM` (default P-384) — or imported from
 * `IRP_CA_CERT`/`IRP_CA_KEY`. Several instances may share the database: the CA is
 * one row (`id = 1`) inserted with `ON CONFLICT DO NOTHING`, so exactly one
 * instance's CA wins and every instance then loads that one.
 *
 * The private keys are stored only as AES-256-GCM envelopes under the master key;
 * they exist in plaintext only in this process's memory (as KeyObjects inside
 * {@link CaSigner}). Nothing returns or logs them.
 */
@Injectable()
export class DomainCaService implements OnModuleInit {
  private readonly log = new Logger('DomainCa');
  private loading: Promise<LoadedCa> | undefined;
  private loaded: LoadedCa | undefined;

  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ready();
  }

  /** The CA, loading (or creating) it on first use. Start-up fails when it cannot be loaded. */
  ready(): Promise<LoadedCa> {
    this.loading ??= this.load().then((ca) => (this.loaded = ca));
    return this.loading;
  }

  /** The CA once {@link ready} has resolved (it has, for every request handler). */
  get ca(): LoadedCa {
    if (!this.loaded) throw new Error('The domain CA is not loaded yet');
    return this.loaded;
  }

  private async load(): Promise<LoadedCa> {
    const masterKey = await loadMasterKey(this.config, this.log);
    const repo = this.dataSource.getRepository(CaEntity);
    let row = await repo.findOne({ where: { id: 1 } });
    if (!row) {
      const fresh = await this.newCa(masterKey);
      const won = await this.dataSource.transaction(async (m) => {
        const inserted: unknown[] = await m.query(
          `INSERT INTO irp_ca (id, origin, key_algorithm, issuing_certificate, issuing_key, chain_pem, root_key, created_at)
           VALUES (1, $1, $2, $3, $4, $5, $6, now()) ON CONFLICT (id) DO NOTHING RETURNING id`,
          [
            fresh.origin,
            fresh.keyAlgorithm,
            fresh.issuingCertificate,
            fresh.issuingKey,
            fresh.chainPem,
            fresh.rootKey,
          ],
        );
        if (inserted.length === 0) return false;
        await m.query(
          `INSERT INTO irp_crl (id, crl_number) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
        );
        return true;
      });
      row = await repo.findOneOrFail({ where: { id: 1 } });
      if (won) {
        this.log.log(
          fresh.origin === 'created'
            ? `Created the domain CA for ${this.config.domain} (${fresh.keyAlgorithm})`
            : 'Imported the domain CA from IRP_CA_CERT/IRP_CA_KEY',
        );
      }
    } else if (this.config.caCertFile) {
      await this.checkImportMatches(row);
    }
    const ca = this.open(row, masterKey);
    await this.writePublicFiles(ca);
    this.log.log(
      `Domain CA: issuing ${ca.certificates[0]?.subject ?? '?'}, root sha256 ${ca.root.sha256}`,
    );
    return ca;
  }

  /** A CA row for this deployment: imported from the operator's files, or created. */
  private async newCa(masterKey: Uint8Array): Promise<Omit<CaEntity, 'id' | 'createdAt'>> {
    const { caCertFile, caKeyFile } = this.config;
    if (caCertFile && caKeyFile) {
      const certificates = parseCertificates(await readFile(caCertFile, 'utf8'));
      const [issuing, ...chain] = certificates;
      if (!issuing) throw new Error(`IRP_CA_CERT (${caCertFile}) holds no certificate`);
      let imported;
      try {
        imported = importCa({
          certificate: issuing.der,
          privateKey: await readFile(caKeyFile, 'utf8'),
          chain: chain.map((c) => c.der),
        });
      } catch (error) {
        if (error instanceof PkiError)
          throw new Error(`IRP_CA_CERT/IRP_CA_KEY cannot be used: ${error.message}`, {
            cause: error,
          });
        throw error;
      }
      return {
        origin: 'imported',
        keyAlgorithm: imported.keyAlgorithm.label,
        issuingCertificate: Buffer.from(imported.certificateDer),
        issuingKey: Buffer.from(
          encryptPrivateKey(
            imported.privateKeyPkcs8Der,
            masterKey,
            keyContext('issuing', imported.sha256),
          ),
        ),
        chainPem: chain.map((c) => c.toPem()).join(''),
        rootKey: null,
      };
    }
    const created = await createDomainCa({
      domain: this.config.domain,
      algorithm: this.config.caAlgorithm,
    });
    return {
      origin: 'created',
      keyAlgorithm: created.intermediate.keyAlgorithm.label,
      issuingCertificate: Buffer.from(created.intermediate.certificateDer),
      issuingKey: Buffer.from(
        encryptPrivateKey(
          created.intermediate.privateKeyPkcs8Der,
          masterKey,
          keyContext('issuing', created.intermediate.sha256),
        ),
      ),
      chainPem: created.root.certificatePem,
      rootKey: Buffer.from(
        encryptPrivateKey(
          created.root.privateKeyPkcs8Der,
          masterKey,
          keyContext('root', created.root.sha256),
        ),
      ),
    };
  }

  /** Decision: the CA in the database wins; an `IRP_CA_CERT` naming another CA stops the start. */
  private async checkImportMatches(row: CaEntity): Promise<void> {
    const file = this.config.caCertFile;
    if (!file) return;
    const [first] = parseCertificates(await readFile(file, 'utf8'));
    const stored = parseCertificate(row.issuingCertificate);
    if (first?.sha256 !== stored.sha256) {
      throw new Error(
        `IRP_CA_CERT (${file}) is not the CA this deployment already uses (sha256 ${stored.sha256}); ` +
          'the domain CA cannot be replaced by changing IRP_CA_CERT',
      );
    }
  }

  private open(row: CaEntity, masterKey: Uint8Array): LoadedCa {
    const issuing = parseCertificate(row.issuingCertificate);
    let keyDer: Uint8Array;
    try {
      keyDer = decryptPrivateKey(row.issuingKey, masterKey, keyContext('issuing', issuing.sha256));
    } catch (error) {
      if (PkiError.is(error, 'decrypt')) {
        throw new Error(
          'The CA private key cannot be decrypted: IRP_MASTER_KEY (or IRP_DATA_DIR/master.key) ' +
            'is not the key it was encrypted with',
          { cause: error },
        );
      }
      throw error;
    }
    const signer = CaSigner.create({ certificate: issuing.der, privateKey: keyDer });
    Buffer.from(keyDer.buffer, keyDer.byteOffset, keyDer.byteLength).fill(0);
    const chain = row.chainPem.trim() === '' ? [] : parseCertificates(row.chainPem);
    const certificates = [issuing, ...chain];
    const root = certificates[certificates.length - 1] ?? issuing;
    const base = this.config.publicHttpUrl;
    const urls = {
      crl: `${base}${PKI_PATHS.crl}`,
      ocsp: `${base}${PKI_PATHS.ocsp}`,
      caIssuers: `${base}${PKI_PATHS.issuingCa}`,
    };
    const issuer = new CertificateIssuer(signer, {
      crlUrl: urls.crl,
      ocspUrl: urls.ocsp,
      caIssuersUrl: urls.caIssuers,
      maxValidityDays: this.config.maxCertDays,
    });
    return {
      signer,
      issuer,
      ocsp: new OcspResponder(signer),
      certificates,
      root,
      chainPem: certificates.map((c) => c.toPem()).join(''),
      rootPem: root.toPem(),
      issuerHash: issuerHashOf(issuing.subjectDer),
      urls,
    };
  }

  /** `<dataDir>/ca/root.pem` and `chain.pem`: public certificates only, never keys. */
  private async writePublicFiles(ca: LoadedCa): Promise<void> {
    if (this.config.dataDir === 'memory') return;
    const dir = join(this.config.dataDir, 'ca');
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeFile(join(dir, CA_FILES.root), ca.rootPem);
    await writeFile(join(dir, CA_FILES.chain), ca.chainPem);
  }
}
