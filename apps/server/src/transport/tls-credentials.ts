import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import * as x509 from '@peculiar/x509';
import { IRP_CONFIG } from '../config/config.module.js';
import { type IrpConfig } from '../config/config.schema.js';
import { type TlsCredentials } from './tls-options.js';

/** Injection token of the {@link TlsCredentialsSource} the IRP listener uses. */
export const TLS_CREDENTIALS = Symbol('TLS_CREDENTIALS');

/** The listener's current certificate; `onChange` lets it swap a renewed one in. */
export interface TlsCredentialsSource {
  current(): Promise<TlsCredentials>;
  onChange(listener: (credentials: TlsCredentials) => void): void;
}

/**
 * Operator-supplied files (`IRP_TLS_CERT`/`IRP_TLS_KEY`) or, failing those, a
 * self-signed P-256 certificate generated into `IRP_DATA_DIR/tls` at first start.
 */
@Injectable()
export class FileTlsCredentials implements TlsCredentialsSource {
  private readonly log = new Logger('TlsCredentials');
  private cached: Promise<TlsCredentials> | undefined;

  constructor(@Inject(IRP_CONFIG) private readonly config: IrpConfig) {}

  current(): Promise<TlsCredentials> {
    this.cached ??= this.load();
    return this.cached;
  }

  onChange(): void {
    // files and the self-signed certificate do not change while running
  }

  private async load(): Promise<TlsCredentials> {
    const { tlsCertFile, tlsKeyFile } = this.config;
    if (tlsCertFile && tlsKeyFile) {
      return { cert: await readFile(tlsCertFile), key: await readFile(tlsKeyFile) };
    }
    const dir = join(this.config.dataDir, 'tls');
    const certPath = join(dir, 'server.crt');
    const keyPath = join(dir, 'server.key');
    try {
      return { cert: await readFile(certPath), key: await readFile(keyPath) };
    } catch {
      // first start: generate below
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { cert, key } = await selfSigned(this.config.serverName);
    await writeFile(keyPath, key, { mode: 0o600 });
    await chmod(keyPath, 0o600);
    await writeFile(certPath, cert);
    this.log.warn(
      `Generated a self-signed TLS certificate for ${this.config.serverName} in ${dir}`,
    );
    return { cert, key };
  }
}

async function selfSigned(serverName: string): Promise<{ cert: string; key: string }> {
  const crypto = webcrypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const names = [
    isIP(serverName)
      ? { type: 'ip' as const, value: serverName }
      : { type: 'dns' as const, value: serverName },
  ];
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: `CN=${serverName}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 365 * 86_400_000),
      keys,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(names),
      ],
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    cert: `${certificate.toString('pem')}\n`,
    key: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`,
  };
}
