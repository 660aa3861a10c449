import { readFile, writeFile } from 'node:fs/promises';
import {
  KEYGEN_ALGORITHMS,
  REQUEST_PROFILES,
  REVOCATION_REASONS,
  type CaCertificate,
  type CertificateInfo,
  type IrpResult,
  type RequestProfile,
} from '@irp/protocol';
import { buildCsr, derToPem, parseCertificate, readPkcs12, toPrivateKey } from '@irp/pki';
import { CliError } from '../cli/cli.error.js';
import { type CliContext, type CommandSpec } from '../cli/context.js';
import { flag, int, oneOf, str } from '../cli/options.js';
import { certificateLine, formatFingerprint, renderCertificate } from '../format/render.js';
import { parseServerAddress } from '../net/server-address.js';
import {
  call,
  requireProfile,
  resolveProfile,
  send,
  withSession,
  type Session,
} from '../net/session.js';
import {
  generateKeyPem,
  keyMatchesCertificate,
  parseKeyAlgorithm,
  spkiOf,
} from '../pki/local-credentials.js';
import {
  splitPemBlocks,
  writePrivateFile,
  type LocalCredentials,
  type ProfileData,
} from '../store/profile-store.js';
import { readPassphrase } from './common.js';

/** Certificate request options shared by request and renew. */
function requestOptions(ctx: CliContext): { profile: RequestProfile; validityDays?: number } {
  const profile = oneOf(str(ctx.values, 'type'), REQUEST_PROFILES, '--type') ?? 'user';
  const days = int(ctx.values, 'days', 1, 100_000);
  return { profile, ...(days !== undefined ? { validityDays: days } : {}) };
}

function pemOf(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function chainPems(chain: readonly CaCertificate[] | undefined): string[] {
  return (chain ?? []).flatMap((c) => splitPemBlocks(c.pem));
}

/** The profile logged in as (a session with login always has one after rememberProfile). */
function sessionProfile(s: Session): ProfileData {
  if (!s.profile) throw CliError.local('no profile for this session');
  return s.profile;
}

/**
 * Installs key + certificate as the profile's credentials (used for SCA from the
 * next connection on); the previous ones are kept under `retired/`.
 */
async function installCredentials(
  ctx: CliContext,
  address: string,
  credentials: LocalCredentials,
): Promise<void> {
  const old = await ctx.store.credentials(address);
  if (old) await ctx.store.retireCredentials(address, parseCertificate(old.certPem).serialHex);
  await ctx.store.saveCredentials(address, credentials);
}

/** Sends a CSR for a fresh key and stores the result (1000) or the pending key (1001). */
async function requestWithNewKey(
  ctx: CliContext,
  s: Session,
  renews: string | undefined,
): Promise<void> {
  const profile = sessionProfile(s);
  const algorithm = parseKeyAlgorithm(str(ctx.values, 'algo'));
  ctx.out.progress(`generating a ${algorithm} key`);
  const keyPem = await generateKeyPem(algorithm);
  const csr = buildCsr({ privateKey: keyPem });
  ctx.out.progress('sending the certificate request');
  const { data, result } = await send(s, {
    cmd: 'requestCertificate',
    ...requestOptions(ctx),
    key: { kind: 'csr', csr: csr.pem },
    ...(renews !== undefined ? { renews } : {}),
  });
  await storeIssued(ctx, profile, keyPem, data, result);
}

async function storeIssued(
  ctx: CliContext,
  profile: ProfileData,
  keyPem: string,
  data: {
    certificate?: CertificateInfo;
    chain?: CaCertificate[];
    request?: { id: string; status: string };
  },
  result: IrpResult,
): Promise<void> {
  if (result.code === 1001 || !data.certificate?.pem) {
    const id = data.request?.id ?? 'pending';
    await ctx.store.savePendingKey(profile.address, id, keyPem);
    ctx.out.result({ pending: true, request: data.request, result }, () => [
      `certificate request ${id} is pending operator approval; the key is kept locally`,
      'once approved, run `irp cert fetch` to install the certificate',
    ]);
    return;
  }
  const certificate = data.certificate;
  const certPem = pemOf(certificate.pem ?? '');
  if (!keyMatchesCertificate(keyPem, certPem))
    throw CliError.local('the issued certificate is not for our key');
  await installCredentials(ctx, profile.address, {
    keyPem,
    certPem,
    chainPem: chainPems(data.chain),
  });
  ctx.out.result(
    {
      certificate: { ...certificate, pem: undefined },
      chain: data.chain?.map((c) => c.sha256),
      stored: ctx.store.path(profile.address, 'cert.pem'),
    },
    () => [
      `certificate issued to ${profile.address}; from now on irp logs in with it (SCA)`,
      ...renderCertificate(certificate),
      `key and certificate in ${ctx.store.path(profile.address, '')} (key mode 0600)`,
    ],
  );
}

/** `irp cert request` (spec §9 requestCertificate with a CSR). */
export const certRequestCommand: CommandSpec = {
  path: ['cert', 'request'],
  usage:
    '[--algo P-256|P-384|P-521|Ed25519|RSA-2048|RSA-3072|RSA-4096] [--type user|device] [--days N]',
  summary:
    'generate a key locally (P-256 by default), send a CSR, store key + certificate + chain; SCA from then on',
  options: ['algo', 'type', 'days'],
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: true, remember: true }, (s) => requestWithNewKey(ctx, s, undefined)),
};

/** `irp cert renew`: a new key and certificate superseding the current one (spec §9 `renews`). */
export const certRenewCommand: CommandSpec = {
  path: ['cert', 'renew'],
  usage: '[--algo ALG] [--type user|device] [--days N]',
  summary: 'new key and certificate; the server revokes the current one as superseded',
  options: ['algo', 'type', 'days'],
  args: [0, 0],
  run: async (ctx) => {
    const profile = await requireProfile(ctx);
    const current = await ctx.store.credentials(profile.address);
    if (!current)
      throw CliError.local('this profile has no certificate to renew', ['run `irp cert request`']);
    const serial = parseCertificate(current.certPem).serialHex;
    await withSession(ctx, { login: true }, (s) => requestWithNewKey(ctx, s, serial));
  },
};

/** `irp cert keygen`: server-side key generation into a PKCS#12 (spec §9 keygen). */
export const certKeygenCommand: CommandSpec = {
  path: ['cert', 'keygen'],
  usage: '--out FILE.p12 [--install] [--algo P-256|P-384|RSA-3072] [--type user|device] [--days N]',
  summary:
    'let the server make the key; receive it as a passphrase-encrypted .p12 (it keeps no copy)',
  options: ['algo', 'type', 'days', 'out', 'install', 'passphrase-file'],
  args: [0, 0],
  run: async (ctx) => {
    const out = str(ctx.values, 'out');
    const install = flag(ctx.values, 'install');
    if (out === undefined && !install) throw CliError.usage('give --out FILE.p12 and/or --install');
    const algorithm =
      oneOf(str(ctx.values, 'algo')?.toUpperCase(), KEYGEN_ALGORITHMS, '--algo') ?? 'P-256';
    const passphrase = await readPassphrase(ctx, true);
    await withSession(ctx, { login: true, remember: true }, async (s) => {
      const profile = sessionProfile(s);
      ctx.out.progress(`asking the server to generate a ${algorithm} key`);
      const { data, result } = await send(s, {
        cmd: 'requestCertificate',
        ...requestOptions(ctx),
        key: { kind: 'keygen', algorithm, passphrase },
      });
      if (!data.pkcs12) {
        ctx.out.result({ pending: true, request: data.request, result }, () => [
          `certificate request ${data.request?.id ?? ''} is pending operator approval`,
        ]);
        return;
      }
      if (out !== undefined) await writePrivateFile(out, data.pkcs12);
      if (install) {
        ctx.out.progress('decrypting the PKCS#12');
        const contents = await readPkcs12(data.pkcs12, passphrase);
        await installCredentials(
          ctx,
          profile.address,
          credentialsFromPkcs12(contents, chainPems(data.chain)),
        );
      }
      ctx.out.result(
        { certificate: { ...data.certificate, pem: undefined }, pkcs12: out, installed: install },
        () => [
          `certificate issued with a server-generated key${out !== undefined ? `; PKCS#12 written to ${out} (mode 0600)` : ''}`,
          ...(install ? ['key and certificate installed in the profile; SCA from now on'] : []),
          ...(data.certificate ? renderCertificate(data.certificate) : []),
        ],
      );
    });
  },
};

/** Key, certificate and chain out of a decrypted PKCS#12. */
export function credentialsFromPkcs12(
  contents: {
    privateKeyPkcs8Der: Uint8Array;
    certificateDer: Uint8Array;
    chainDer: readonly Uint8Array[];
  },
  fallbackChain: string[],
): LocalCredentials {
  const keyPem = toPrivateKey(contents.privateKeyPkcs8Der)
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const certPem = derToPem(contents.certificateDer, 'CERTIFICATE');
  if (!keyMatchesCertificate(keyPem, certPem))
    throw CliError.local('the PKCS#12 key does not match its certificate');
  const chainPem =
    contents.chainDer.length > 0
      ? contents.chainDer.map((d) => derToPem(d, 'CERTIFICATE'))
      : fallbackChain;
  return { keyPem, certPem, chainPem };
}

/** `irp cert import FILE.p12`: installs a key and certificate from a local PKCS#12. */
export const certImportCommand: CommandSpec = {
  path: ['cert', 'import'],
  usage: 'FILE.p12 [--force]',
  summary:
    'install the key and certificate of a PKCS#12 file into the profile (creates the profile from the certificate if needed)',
  options: ['passphrase-file', 'force'],
  args: [1, 1],
  run: async (ctx) => {
    const file = ctx.args[0] ?? '';
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw CliError.local(`cannot read ${file}: ${(e as Error).message}`);
    }
    const passphrase = await readPassphrase(ctx, false);
    ctx.out.progress('decrypting the PKCS#12');
    const credentials = credentialsFromPkcs12(await readPkcs12(bytes, passphrase), []);
    const cert = parseCertificate(credentials.certPem);
    const uri = cert.subjectAltNames.uri.find((u) => u.startsWith('irp:'));
    let { profile } = await resolveProfile(ctx);
    const certAddress = uri?.slice(4).toLowerCase();
    if (certAddress && profile?.address !== certAddress)
      profile = await ctx.store.load(certAddress);
    if (!profile) {
      if (!certAddress)
        throw CliError.local(
          'the certificate names no IRP address (URI irp:…); select a profile with --user',
        );
      const [userId = '', domain = ''] = certAddress.split('@');
      const server = str(ctx.values, 'server') ?? ctx.env.IRP_SERVER;
      profile = {
        address: certAddress,
        userId,
        domain,
        ...(server ? { server: parseServerAddress(server) } : {}),
        createdAt: new Date().toISOString(),
      };
      await ctx.store.save(profile);
    }
    const existing = await ctx.store.credentials(profile.address);
    if (
      existing &&
      !flag(ctx.values, 'force') &&
      !spkiOf(toPrivateKey(existing.keyPem)).equals(spkiOf(cert.publicKey))
    ) {
      throw CliError.local(`${profile.address} already has a different key`, [
        'use --force to replace it (the old one is kept under retired/)',
      ]);
    }
    if (credentials.chainPem.length === 0)
      credentials.chainPem = await ctx.store.chain(profile.address);
    await installCredentials(ctx, profile.address, credentials);
    await ctx.store.setCurrent(profile.address);
    ctx.out.result(
      { imported: profile.address, serial: cert.serialHex, sha256: cert.sha256 },
      () => [
        `installed the key and certificate ${cert.serialHex} for ${profile.address} (now the current profile)`,
      ],
    );
  },
};

/** `irp cert fetch`: installs approved certificates for keys awaiting approval. */
export const certFetchCommand: CommandSpec = {
  path: ['cert', 'fetch'],
  usage: '',
  summary: 'install certificates an operator approved since `cert request` answered "pending"',
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const profile = sessionProfile(s);
      const pending = await ctx.store.pendingKeys(profile.address);
      if (pending.size === 0) {
        ctx.out.result({ installed: [] }, () => ['no pending certificate request']);
        return;
      }
      const listed = (await call(s, { cmd: 'listCertificates' })).certificates ?? [];
      const installed: string[] = [];
      for (const info of listed.filter((c) => c.status === 'valid')) {
        const full = (
          await call(s, { cmd: 'getCertificate', query: { by: 'serial', serial: info.serial } })
        ).certificates?.[0];
        if (!full?.pem) continue;
        const certPem = pemOf(full.pem);
        for (const [id, keyPem] of pending) {
          if (!keyMatchesCertificate(keyPem, certPem)) continue;
          const chain = (await call(s, { cmd: 'getCACertificates' })).certificates;
          await installCredentials(ctx, profile.address, {
            keyPem,
            certPem,
            chainPem: chainPems(chain),
          });
          await ctx.store.dropPendingKey(profile.address, id);
          installed.push(info.serial);
        }
      }
      ctx.out.result({ installed }, () =>
        installed.length > 0
          ? installed.map((s2) => `installed certificate ${s2}`)
          : ['not approved yet'],
      );
    }),
};

/** `irp cert list [USER]` (spec §9 listCertificates). */
export const certListCommand: CommandSpec = {
  path: ['cert', 'list'],
  usage: '[USER]',
  summary: "your certificates in every status, or another user's valid ones",
  args: [0, 1],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const who = ctx.args[0];
      const certs =
        (await call(s, who ? { cmd: 'listCertificates', user: who } : { cmd: 'listCertificates' }))
          .certificates ?? [];
      const mine = s.credentials ? parseCertificate(s.credentials.certPem).serialHex : undefined;
      ctx.out.result({ certificates: certs, local: mine }, () =>
        certs.length === 0
          ? ['no certificates']
          : certs.map((c) => `${c.serial === mine && !who ? '*' : ' '} ${certificateLine(c)}`),
      );
    }),
};

/** The local certificate's serial, or fail. */
async function localSerial(ctx: CliContext): Promise<string> {
  const profile = await requireProfile(ctx);
  const creds = await ctx.store.credentials(profile.address);
  if (!creds)
    throw CliError.local('this profile has no certificate; name one by serial or SHA-256');
  return parseCertificate(creds.certPem).serialHex;
}

/**
 * What `cert show` is asked for: 64 hex digits are a SHA-256 fingerprint, 32 a
 * serial of the domain CA; `serial:`, `sha256:` or `user:` say it explicitly;
 * anything else is a user.
 */
export function certificateQuery(
  what: string,
):
  | { by: 'sha256'; sha256: string }
  | { by: 'serial'; serial: string }
  | { by: 'user'; user: string } {
  const m = /^(serial|sha256|user):(.+)$/.exec(what);
  if (m?.[1] === 'serial') return { by: 'serial', serial: (m[2] ?? '').toLowerCase() };
  if (m?.[1] === 'sha256')
    return { by: 'sha256', sha256: (m[2] ?? '').toLowerCase().replace(/:/g, '') };
  if (m?.[1] === 'user') return { by: 'user', user: m[2] ?? '' };
  if (/^[0-9a-f]{64}$/i.test(what)) return { by: 'sha256', sha256: what.toLowerCase() };
  if (/^[0-9a-f]{32}$/i.test(what)) return { by: 'serial', serial: what.toLowerCase() };
  return { by: 'user', user: what };
}

/** `irp cert show [SERIAL|SHA256|USER]` (spec §9 getCertificate). */
export const certShowCommand: CommandSpec = {
  path: ['cert', 'show'],
  usage: '[SERIAL|SHA256|USER] [--out FILE]',
  summary:
    "a certificate with its PEM: yours by default, by serial or fingerprint, or a user's valid ones",
  options: ['out'],
  args: [0, 1],
  run: async (ctx) => {
    const what = ctx.args[0] ?? (await localSerial(ctx));
    const query = certificateQuery(what);
    await withSession(ctx, { login: true }, async (s) => {
      const certs = (await call(s, { cmd: 'getCertificate', query })).certificates ?? [];
      const out = str(ctx.values, 'out');
      if (out !== undefined) await writeFile(out, certs.map((c) => pemOf(c.pem ?? '')).join(''));
      ctx.out.result({ certificates: certs }, () =>
        certs.flatMap((c) => {
          const parsed = c.pem ? parseCertificate(c.pem) : undefined;
          return [
            ...renderCertificate(c),
            ...(parsed
              ? [
                  `subject     ${parsed.subject}`,
                  `issuer      ${parsed.issuer}`,
                  `SAN         ${[...parsed.subjectAltNames.uri, ...parsed.subjectAltNames.email].join(', ')}`,
                  `SHA-256     ${formatFingerprint(parsed.sha256)}`,
                ]
              : []),
            ...(out === undefined && c.pem ? [pemOf(c.pem).trimEnd()] : []),
            '',
          ];
        }),
      );
    });
  },
};

/** `irp cert status [SERIAL|SHA256]` (spec §9 certificateStatus). */
export const certStatusCommand: CommandSpec = {
  path: ['cert', 'status'],
  usage: '[SERIAL|SHA256]',
  summary: 'the status of a certificate (yours by default) as the registry knows it now',
  args: [0, 1],
  run: async (ctx) => {
    const what = (ctx.args[0] ?? (await localSerial(ctx))).toLowerCase();
    const query = /^[0-9a-f]{64}$/.test(what)
      ? ({ by: 'sha256', sha256: what } as const)
      : ({ by: 'serial', serial: what } as const);
    await withSession(ctx, { login: true }, async (s) => {
      const c = (await call(s, { cmd: 'certificateStatus', query })).certificate;
      ctx.out.result({ certificate: c }, () =>
        c
          ? [
              `${c.serial ?? c.sha256 ?? what}: ${c.status}${c.revokedAt ? ` since ${c.revokedAt.toISOString()} (${c.reason ?? 'unspecified'})` : ''}`,
            ]
          : ['no answer'],
      );
    });
  },
};

/** `irp cert revoke [SERIAL] [--reason R]` (spec §9 revokeCertificate). */
export const certRevokeCommand: CommandSpec = {
  path: ['cert', 'revoke'],
  usage:
    '[SERIAL] [--reason unspecified|keyCompromise|affiliationChanged|superseded|cessationOfOperation]',
  summary: 'revoke one of your certificates (the local one by default; its key is then retired)',
  options: ['reason'],
  args: [0, 1],
  run: async (ctx) => {
    const profile = await requireProfile(ctx);
    const serial = (ctx.args[0] ?? (await localSerial(ctx))).toLowerCase();
    const reason =
      oneOf(str(ctx.values, 'reason'), REVOCATION_REASONS, '--reason') ?? 'unspecified';
    await withSession(ctx, { login: true }, async (s) => {
      const data = await call(s, { cmd: 'revokeCertificate', serial, reason });
      const creds = await ctx.store.credentials(profile.address);
      const retired = creds !== undefined && parseCertificate(creds.certPem).serialHex === serial;
      if (retired) await ctx.store.retireCredentials(profile.address, serial);
      ctx.out.result({ certificate: data.certificate, retiredLocalKey: retired }, () => [
        `certificate ${serial} revoked (${reason})`,
        ...(retired
          ? [
              "it was this profile's certificate: key and certificate moved to retired/; password login from now on",
            ]
          : []),
      ]);
    });
  },
};
