import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { IrpClient } from '@irp/client';
import { ALPN_PROTOCOL, IRP_TLS_CIPHERS, IRP_TLS_MIN_VERSION } from '@irp/protocol';
import {
  buildCertificatePath,
  parseCertificate,
  parseCertificates,
  type ParsedCertificate,
} from '@irp/pki';
import { CliError } from '../cli/cli.error.js';
import { type CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { flag, str } from '../cli/options.js';
import { askYesNo } from '../cli/secrets.js';
import { formatFingerprint, normalizeFingerprint } from '../format/render.js';
import { type ServerTarget, type TrustRecord } from '../store/profile-store.js';
import { formatTarget } from './server-address.js';

/** A trust decision, and whether it is new (to be saved once a connection succeeded). */
export interface ResolvedTrust {
  record: TrustRecord;
  isNew: boolean;
}

/** The TLS name to verify for a target: `--tls-name`, the stored one, else the host name (not an IP). */
export function tlsNameFor(
  target: ServerTarget,
  explicit: string | undefined,
  stored: string | undefined,
): string | undefined {
  return explicit ?? stored ?? (isIP(target.host) ? undefined : target.host);
}

/**
 * How to trust the server at `target`: `--ca FILE`, the stored decision, or trust
 * on first use (TOFU) of its domain CA, with the fingerprint shown and confirmed.
 */
export async function resolveTrust(ctx: CliContext, target: ServerTarget): Promise<ResolvedTrust> {
  const caFile = str(ctx.values, 'ca');
  const explicitName = str(ctx.values, 'tls-name');
  if (caFile !== undefined) {
    let pem: string;
    try {
      pem = await readFile(caFile, 'utf8');
    } catch (e) {
      throw CliError.local(`cannot read --ca ${caFile}: ${(e as Error).message}`);
    }
    const certs = parseCertificates(pem);
    const first = certs[0];
    if (!first) throw CliError.local(`--ca ${caFile} holds no PEM certificate`);
    const tlsName = tlsNameFor(target, explicitName, undefined);
    return {
      record: {
        host: target.host,
        port: target.port,
        ...(tlsName !== undefined ? { tlsName } : {}),
        kind: 'ca-file',
        anchorsPem: certs.map((c) => c.toPem()).join(''),
        subject: first.subject,
        sha256: first.sha256,
        acceptedAt: new Date().toISOString(),
      },
      isNew: true,
    };
  }
  const stored = await ctx.store.trust(target);
  if (stored) {
    if (explicitName !== undefined && explicitName !== stored.tlsName)
      return { record: { ...stored, tlsName: explicitName }, isNew: true };
    return { record: stored, isNew: false };
  }
  return { record: await trustOnFirstUse(ctx, target), isNew: true };
}

/** The certificates the server presents (leaf first), read without verifying them. */
function probeServerChain(
  target: ServerTarget,
  servername: string | undefined,
  timeoutMs: number,
): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      ...(servername !== undefined ? { servername } : {}),
      rejectUnauthorized: false, // TOFU: we only look, then decide
      minVersion: IRP_TLS_MIN_VERSION,
      ciphers: IRP_TLS_CIPHERS,
      ALPNProtocols: [ALPN_PROTOCOL],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new CliError(
          ExitCode.Connection,
          `no TLS handshake with ${formatTarget(target)} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain: Buffer[] = [];
      const seen = new Set<string>();
      for (
        let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
        c?.raw && !seen.has(c.fingerprint256);
        c = c.issuerCertificate
      ) {
        seen.add(c.fingerprint256);
        chain.push(c.raw);
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once('error', (e: Error) => {
      clearTimeout(timer);
      reject(
        new CliError(
          ExitCode.Connection,
          `cannot connect to ${formatTarget(target)}: ${e.message}`,
          { cause: e },
        ),
      );
    });
  });
}

/** The domain CA certificates (issuing CA first, root last) by `getCACertificates`, if served. */
async function fetchCaCertificates(
  target: ServerTarget,
  servername: string | undefined,
  timeoutMs: number,
): Promise<{ domain: string; certs: ParsedCertificate[] }> {
  const client = await IrpClient.connect({
    host: target.host,
    port: target.port,
    ...(servername !== undefined ? { servername } : {}),
    rejectUnauthorized: false, // TOFU: the answer is shown to the user to decide on
    timeoutMs,
  });
  try {
    if (!client.greeting.commands.includes('getCACertificates'))
      return { domain: client.greeting.domain, certs: [] };
    const res = await client.request({ cmd: 'getCACertificates' }, { timeoutMs });
    const pems = res.cmd === 'getCACertificates' ? (res.data.certificates ?? []) : [];
    return { domain: client.greeting.domain, certs: pems.map((c) => parseCertificate(c.pem)) };
  } finally {
    await client.close();
  }
}

/**
 * Trust on first use: shows the fingerprint of the domain CA that vouches for the
 * server (or of the server's own certificate when no domain CA does) and asks; a
 * script confirms with `--yes`/`IRP_YES=1` or, better, `--ca-fingerprint`.
 * @throws CliError (trust, exit 4) when not confirmed
 */
async function trustOnFirstUse(ctx: CliContext, target: ServerTarget): Promise<TrustRecord> {
  const where = formatTarget(target);
  ctx.out.progress(`first contact with ${where}: fetching its certificates`);
  const explicitName = str(ctx.values, 'tls-name');
  const servername = tlsNameFor(target, explicitName, undefined);
  const chainDer = await probeServerChain(target, servername, ctx.timeoutMs);
  const leafDer = chainDer[0];
  if (!leafDer) throw new CliError(ExitCode.Trust, `${where} presented no certificate`);
  const leaf = parseCertificate(leafDer);
  const presented = chainDer.map((d) => parseCertificate(d));
  const { domain, certs: caCerts } = await fetchCaCertificates(target, servername, ctx.timeoutMs);

  let kind: TrustRecord['kind'] = 'server-certificate';
  let anchor = presented[presented.length - 1] ?? leaf;
  const root = caCerts[caCerts.length - 1];
  if (root) {
    try {
      buildCertificatePath(leaf, {
        trustAnchors: [root],
        intermediates: [...caCerts.slice(0, -1), ...presented.slice(1)],
      });
      kind = 'domain-ca';
      anchor = root;
    } catch {
      // the server's TLS certificate is not issued by the domain CA: pin what it presents
    }
  }
  // Verifying by IP address needs an IP SAN; without one, verify the name the certificate has.
  const tlsName =
    servername ??
    (leaf.subjectAltNames.ip.includes(target.host) ? undefined : leaf.subjectAltNames.dns[0]);

  ctx.out.tell(`The server ${where}${domain ? ` (domain ${domain})` : ''} is not known yet.`);
  if (kind === 'domain-ca') {
    ctx.out.tell('Its certificate is issued by the domain CA:');
  } else {
    ctx.out.tell(
      root
        ? 'Its TLS certificate is not issued by the domain CA; pinning the certificate it presents:'
        : 'It serves no domain CA certificate; pinning the certificate it presents:',
    );
  }
  ctx.out.tell(`  subject  ${anchor.subject}`);
  ctx.out.tell(`  SHA-256  ${formatFingerprint(anchor.sha256)}`);
  if (kind !== 'domain-ca' && root)
    ctx.out.tell(`  (domain CA ${root.subject}, SHA-256 ${formatFingerprint(root.sha256)})`);
  if (tlsName !== undefined && tlsName !== servername) ctx.out.tell(`  TLS name ${tlsName}`);

  const expected = str(ctx.values, 'ca-fingerprint');
  let accepted: boolean;
  if (expected !== undefined) {
    const want = normalizeFingerprint(expected);
    accepted = want === anchor.sha256 || (root !== undefined && want === root.sha256);
    if (!accepted) {
      throw new CliError(
        ExitCode.Trust,
        `the fingerprint does not match --ca-fingerprint ${expected}`,
        {
          hints: ['do not trust this server until its operator confirms the fingerprint'],
        },
      );
    }
  } else if (flag(ctx.values, 'yes') || ctx.env.IRP_YES === '1' || ctx.env.IRP_YES === 'true') {
    accepted = true;
  } else {
    const answer = await askYesNo(
      `Compare the fingerprint with the one your operator published. Trust it for ${where}?`,
    );
    if (answer === undefined) {
      throw new CliError(ExitCode.Trust, `${where} is not trusted yet`, {
        hints: [
          'confirm the fingerprint above with --ca-fingerprint HEX (or --yes / IRP_YES=1),',
          'or give the CA certificate with --ca FILE',
        ],
      });
    }
    accepted = answer;
  }
  if (!accepted) throw new CliError(ExitCode.Trust, `not trusting ${where}`);
  return {
    host: target.host,
    port: target.port,
    ...(tlsName !== undefined ? { tlsName } : {}),
    kind,
    anchorsPem: anchor.toPem(),
    subject: anchor.subject,
    sha256: anchor.sha256,
    ...(domain ? { domain } : {}),
    acceptedAt: new Date().toISOString(),
  };
}
