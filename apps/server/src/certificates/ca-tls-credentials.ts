import { lookup } from 'node:dns/promises';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type ServerTlsCredentials, issueServerTlsCredentials } from '@irp/pki';
import { DataSource } from 'typeorm';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { type TlsCredentialsSource } from '../transport/tls-credentials.js';
import { type TlsCredentials } from '../transport/tls-options.js';
import { DomainCaService, type LoadedCa } from './domain-ca.service.js';
import { CertificateEntity } from './entities/certificate.entity.js';

/** Decision: the listener's certificate lives 90 days… */
export const SERVER_CERT_DAYS = 90;
/** …and is renewed when less than 30 days are left. */
export const SERVER_CERT_RENEW_BEFORE_MS = 30 * 86_400_000;
/** How often the expiry is checked. */
const CHECK_INTERVAL_MS = 6 * 3_600_000;
/** How long resolving `IRP_SERVER_NAME` for its IP addresses may take at start. */
const LOOKUP_TIMEOUT_MS = 2000;

/** The listener's current certificate and key, written for external tools (never read back). */
export const TLS_FILES = { cert: 'server.crt', key: 'server.key' } as const;

/**
 * The IRP listener's TLS credentials (issue 4, spec §1): `IRP_TLS_CERT`/`IRP_TLS_KEY`
 * when given; otherwise a P-256 key generated at start and a certificate from the
 * issuing CA for `IRP_SERVER_NAME` and its IP addresses (EKU serverAuth), recorded
 * in the database so OCSP answers `good` for it. It is renewed before it expires and
 * swapped into the running listener through {@link onChange}. Either way `ca` is the
 * domain root, so client certificates can be verified (spec §6.2).
 *
 * The current chain and key are also written to `<IRP_DATA_DIR>/tls/server.crt` (leaf,
 * issuing CA, root) and `server.key` (mode 0600) for tools that want them; the server
 * never reads them back. The key is not a CA key and is not stored in the database.
 */
@Injectable()
export class CaTlsCredentials implements TlsCredentialsSource, OnModuleDestroy {
  private readonly log = new Logger('TlsCredentials');
  private readonly listeners = new Set<(credentials: TlsCredentials) => void>();
  private loading: Promise<TlsCredentials> | undefined;
  private issued: ServerTlsCredentials | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(IRP_CONFIG) private readonly config: IrpConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly domainCa: DomainCaService,
  ) {}

  current(): Promise<TlsCredentials> {
    this.loading ??= this.load();
    return this.loading;
  }

  onChange(listener: (credentials: TlsCredentials) => void): void {
    this.listeners.add(listener);
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The certificate currently served (undefined with operator-supplied files). */
  get certificate(): ServerTlsCredentials['certificate'] | undefined {
    return this.issued?.certificate;
  }

  /** Issues a new certificate now and hands it to the listener (renewal; tests). */
  async renew(): Promise<TlsCredentials> {
    const ca = await this.domainCa.ready();
    const credentials = await this.issue(ca);
    this.loading = Promise.resolve(credentials);
    for (const listener of this.listeners) listener(credentials);
    return credentials;
  }

  /** Renews when the current certificate is within {@link SERVER_CERT_RENEW_BEFORE_MS} of its end. */
  async renewIfDue(now: Date = new Date()): Promise<boolean> {
    const cert = this.issued?.certificate;
    if (!cert || cert.notAfter.getTime() - now.getTime() > SERVER_CERT_RENEW_BEFORE_MS)
      return false;
    await this.renew();
    return true;
  }

  private async load(): Promise<TlsCredentials> {
    const ca = await this.domainCa.ready();
    const { tlsCertFile, tlsKeyFile } = this.config;
    if (tlsCertFile && tlsKeyFile) {
      return { cert: await readFile(tlsCertFile), key: await readFile(tlsKeyFile), ca: ca.rootPem };
    }
    const credentials = await this.issue(ca);
    this.timer = setInterval(() => {
      this.renewIfDue().catch((error: unknown) =>
        this.log.error(
          `TLS certificate renewal failed (retrying later): ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }, CHECK_INTERVAL_MS);
    this.timer.unref();
    return credentials;
  }

  private async issue(ca: LoadedCa): Promise<TlsCredentials> {
    const { dnsNames, ipAddresses } = await this.names();
    const issued = await issueServerTlsCredentials(ca.issuer, {
      dnsNames,
      ipAddresses,
      validityDays: SERVER_CERT_DAYS,
      // the root is the client's trust anchor: not sent
      chain: ca.certificates.filter((c) => c !== ca.root).map((c) => c.der),
    });
    const cert = issued.certificate;
    await this.dataSource.manager.insert(CertificateEntity, {
      userKey: null,
      profile: 'server',
      issuerHash: ca.issuerHash,
      serial: cert.serialHex,
      sha256: cert.sha256,
      der: Buffer.from(cert.der),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      keyAlgorithm: cert.keyAlgorithm.label,
      createdAt: new Date(),
      revokedAt: null,
      revocationReason: null,
      replacedBy: null,
    });
    this.issued = issued;
    await this.writeFiles(issued, ca);
    this.log.log(
      `TLS certificate for ${[...dnsNames, ...ipAddresses].join(', ')} issued by the domain CA ` +
        `(serial ${cert.serialHex}, until ${cert.notAfter.toISOString()})`,
    );
    return {
      key: issued.privateKeyPem,
      cert: issued.certificateChainPem,
      ca: ca.rootPem,
    };
  }

  /** `IRP_SERVER_NAME`, the addresses it resolves to, and a specific listen address. */
  private async names(): Promise<{ dnsNames: string[]; ipAddresses: string[] }> {
    const { serverName, irpHost } = this.config;
    const dnsNames: string[] = [];
    const ips = new Set<string>();
    if (isIP(serverName)) ips.add(serverName);
    else {
      dnsNames.push(serverName);
      for (const address of await resolve(serverName)) ips.add(address);
    }
    if (isIP(irpHost) && irpHost !== '::' && irpHost !== '0.0.0.0') ips.add(irpHost);
    return { dnsNames, ipAddresses: [...ips] };
  }

  private async writeFiles(issued: ServerTlsCredentials, ca: LoadedCa): Promise<void> {
    if (this.config.dataDir === 'memory') return;
    const dir = join(this.config.dataDir, 'tls');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const keyPath = join(dir, TLS_FILES.key);
    await writeFile(keyPath, issued.privateKeyPem, { mode: 0o600 });
    await chmod(keyPath, 0o600);
    await writeFile(join(dir, TLS_FILES.cert), issued.certificateChainPem + ca.rootPem);
  }
}

/** The IP addresses a name resolves to (empty when it does not resolve in time). */
async function resolve(name: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS);
    timer.unref();
  });
  try {
    const found = lookup(name, { all: true, verbatim: true }).then(
      (all) => all.map((a) => a.address),
      () => [],
    );
    return await Promise.race([found, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
