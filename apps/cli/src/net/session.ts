import { IrpClient, IrpConnectError, resolveIrpTargets, type IrpTarget } from '@irp/client';
import {
  type Greeting,
  type IrpCommandInput,
  type IrpResult,
  type LoginMethod,
  type ResponseDataMap,
  type UserRecord,
} from '@irp/protocol';
import { CliError } from '../cli/cli.error.js';
import { type CliContext } from '../cli/context.js';
import { isTrustFailure, resultError, toCliError } from '../cli/error-mapping.js';
import { ExitCode } from '../cli/exit-codes.js';
import { oneOf, str } from '../cli/options.js';
import { readSecret } from '../cli/secrets.js';
import {
  type LocalCredentials,
  type ProfileData,
  type ServerTarget,
  type TrustRecord,
} from '../store/profile-store.js';
import { formatTarget, parseServerAddress } from './server-address.js';
import { resolveTrust } from './trust.js';

/** What a command needs from its connection. */
export interface SessionOptions {
  /** Log in (SCA when the profile's certificate is valid, else UPA). */
  login: boolean;
  /** Who, overriding --user / the current profile (e.g. `irp login bob`). */
  user?: string;
  /** Only SCA will do (e.g. `auth upa off`). */
  requireSca?: boolean;
  /** After login, create or update the profile and make it the current one. */
  remember?: boolean;
  /** Do not present the profile's certificate (e.g. `register`). */
  anonymous?: boolean;
}

/** An open IRP connection, logged in or not. */
export interface Session {
  client: IrpClient;
  greeting: Greeting;
  target: ServerTarget;
  trust: TrustRecord;
  /** The profile acted as (after login: created/updated when remembered). */
  profile: ProfileData | undefined;
  /** The key and certificate presented in the handshake, if any. */
  credentials: LocalCredentials | undefined;
  /** Set after login. */
  method?: LoginMethod;
  /** The logged-in IRP address. */
  address?: string;
  user?: UserRecord;
  /** The password used for UPA login (reused as `oldPassword` by `irp passwd`). */
  password?: string;
  /** The user id to log in as when there is no profile yet. */
  userHint: string | undefined;
  /** The server came from --server/IRP_SERVER or the profile (not from DNS SRV): remember it. */
  explicitServer: boolean;
}

/** The profile selected by `selector`, --user, IRP_USER or the current one; or a bare user hint. */
export async function resolveProfile(
  ctx: CliContext,
  selector?: string,
): Promise<{ profile?: ProfileData; userHint?: string }> {
  const sel =
    selector ?? str(ctx.values, 'user') ?? ctx.env.IRP_USER ?? (await ctx.store.current());
  if (sel === undefined || sel === '') return {};
  const profile = await ctx.store.find(sel);
  return profile ? { profile, userHint: profile.userId } : { userHint: sel.toLowerCase() };
}

/** The profile to act as; fails when there is none. */
export async function requireProfile(ctx: CliContext, selector?: string): Promise<ProfileData> {
  const { profile, userHint } = await resolveProfile(ctx, selector);
  if (profile) return profile;
  throw CliError.local(userHint ? `no profile for ${userHint}` : 'no profile yet', [
    'run `irp login USER --server HOST[:PORT]` (or `irp register`) first, or pick one with --user',
  ]);
}

async function targetsFor(
  ctx: CliContext,
  profile: ProfileData | undefined,
  userHint: string | undefined,
): Promise<{ targets: IrpTarget[]; explicit: boolean }> {
  const server = str(ctx.values, 'server') ?? ctx.env.IRP_SERVER;
  if (server !== undefined && server !== '')
    return { targets: [parseServerAddress(server)], explicit: true };
  if (profile?.server) return { targets: [profile.server], explicit: true };
  const domain = profile?.domain ?? (userHint?.includes('@') ? userHint.split('@')[1] : undefined);
  if (!domain) {
    throw CliError.usage('no server known', [
      'give --server HOST[:PORT] (or set IRP_SERVER), or a full IRP address user@domain to find it by DNS SRV',
    ]);
  }
  ctx.out.progress(`looking up _irp._tcp.${domain}`);
  try {
    return { targets: await resolveIrpTargets(domain), explicit: false };
  } catch (e) {
    throw new CliError(
      ExitCode.Connection,
      `cannot find the IRP server of ${domain}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** Opens a connection (trust, certificate, greeting) and logs in when asked. */
export async function openSession(ctx: CliContext, opts: SessionOptions): Promise<Session> {
  const { profile, userHint } = await resolveProfile(ctx, opts.user);
  const auth =
    oneOf(str(ctx.values, 'auth') ?? 'auto', ['auto', 'sca', 'upa'] as const, '--auth') ?? 'auto';
  const { targets, explicit } = await targetsFor(ctx, profile, userHint);
  const credentials =
    profile && !opts.anonymous && auth !== 'upa'
      ? await ctx.store.credentials(profile.address)
      : undefined;

  // Ask for the password before connecting when it will surely be needed: the server
  // allows authTimeoutSeconds (spec §6.1) from connect to login, too little for a prompt.
  const password =
    opts.login &&
    !credentials &&
    auth !== 'sca' &&
    !opts.requireSca &&
    (profile?.userId ?? userHint)
      ? await readPassword(ctx, profile?.userId ?? userHint)
      : undefined;

  let client: IrpClient | undefined;
  let target: ServerTarget | undefined;
  let trust: TrustRecord | undefined;
  const failures: CliError[] = [];
  for (const t of targets) {
    const resolved = await resolveTrust(ctx, t);
    try {
      client = await IrpClient.connect({
        host: t.host,
        port: t.port,
        ca: resolved.record.anchorsPem,
        ...(resolved.record.tlsName !== undefined ? { servername: resolved.record.tlsName } : {}),
        ...(credentials
          ? {
              cert: credentials.certPem + credentials.chainPem.slice(0, -1).join(''),
              key: credentials.keyPem,
            }
          : {}),
        timeoutMs: ctx.timeoutMs,
        requestTimeoutMs: ctx.timeoutMs,
      });
    } catch (e) {
      const error = toCliError(e);
      if (e instanceof IrpConnectError && isTrustFailure(e)) throw error; // never fall through a trust failure
      failures.push(error);
      continue;
    }
    if (resolved.isNew) await ctx.store.saveTrust(resolved.record);
    target = t;
    trust = resolved.record;
    break;
  }
  if (!client || !target || !trust) {
    throw failures.length === 1 && failures[0]
      ? failures[0]
      : new CliError(
          ExitCode.Connection,
          `cannot connect to any IRP server (${targets.map(formatTarget).join(', ')})`,
          {
            hints: failures.map((f) => f.message),
          },
        );
  }

  const session: Session = {
    client,
    greeting: client.greeting,
    target,
    trust,
    profile,
    credentials,
    userHint,
    explicitServer: explicit,
  };
  if (!opts.login) return session;
  try {
    await login(ctx, session, auth, opts, password);
    const address = session.address ?? session.user?.address;
    if (address && (opts.remember || profile))
      await rememberProfile(ctx, session, address, opts.remember === true);
    return session;
  } catch (e) {
    await client.close();
    throw e;
  }
}

async function login(
  ctx: CliContext,
  session: Session,
  auth: 'auto' | 'sca' | 'upa',
  opts: SessionOptions,
  knownPassword: string | undefined,
): Promise<void> {
  const { client, credentials } = session;
  const certStatus = client.greeting.clientCertificate.status;
  if (credentials && certStatus === 'valid' && auth !== 'upa') {
    const res = await client.request({ cmd: 'login', method: 'sca' });
    if (res.cmd !== 'login' || res.result.code >= 2000) throw resultError('login', res.result);
    session.method = 'sca';
    session.address = res.data.session?.user;
    session.user = res.data.user;
    return;
  }
  if (auth === 'sca' || opts.requireSca) {
    throw new CliError(ExitCode.LocalState, 'a login with your certificate (SCA) is needed', {
      hints: [
        credentials
          ? `the server says your certificate is ${certStatus}`
          : 'this profile has no certificate: run `irp cert request` (or restore one with `irp backup pull`)',
      ],
    });
  }
  const user = session.profile?.userId ?? session.userHint;
  if (!user) {
    throw CliError.usage('who are you?', ['give --user USER, or run `irp login USER` first']);
  }
  if (credentials && certStatus !== 'valid') {
    ctx.out.warn(`the server says your certificate is ${certStatus}; logging in with the password`);
  }
  const password = knownPassword ?? (await readPassword(ctx, user));
  const res = await client.request({ cmd: 'login', method: 'upa', user, password });
  if (res.cmd !== 'login' || res.result.code >= 2000) throw resultError('login', res.result);
  session.method = 'upa';
  session.address = res.data.session?.user;
  session.user = res.data.user;
  session.password = password;
}

/** The login password: --password-file, IRP_PASSWORD, or a prompt. */
function readPassword(ctx: CliContext, user: string | undefined): Promise<string> {
  return readSecret(
    {
      what: 'password',
      file: str(ctx.values, 'password-file'),
      fileOption: 'password-file',
      envVar: 'IRP_PASSWORD',
      prompt: user ? `Password for ${user}: ` : 'Password: ',
    },
    ctx.env,
  );
}

/** Creates or updates the profile of `address` on this session's server (never any secret). */
export async function rememberProfile(
  ctx: CliContext,
  session: Session,
  address: string,
  makeCurrent: boolean,
): Promise<ProfileData> {
  const [userId = address, domain = session.greeting.domain] = address.toLowerCase().split('@');
  const existing = await ctx.store.load(address);
  const profile: ProfileData = {
    createdAt: new Date().toISOString(),
    ...existing,
    address: `${userId}@${domain}`,
    userId,
    domain,
    ...(session.explicitServer ? { server: session.target } : {}),
    ...(session.trust.tlsName !== undefined ? { tlsName: session.trust.tlsName } : {}),
  };
  await ctx.store.save(profile);
  session.profile = profile;
  if (makeCurrent) await ctx.store.setCurrent(profile.address);
  return profile;
}

/** Runs `fn` with an open session and closes it afterwards. */
export async function withSession<T>(
  ctx: CliContext,
  opts: SessionOptions,
  fn: (session: Session) => Promise<T> | T,
): Promise<T> {
  const session = await openSession(ctx, opts);
  try {
    return await fn(session);
  } finally {
    await session.client.close();
  }
}

/**
 * Sends a command and returns its data and result; a 2xxx result becomes a
 * CliError with the exit code of its class (the code and meaning shown, spec §5).
 */
export async function send<C extends IrpCommandInput>(
  session: Session,
  command: C,
): Promise<{ data: ResponseDataMap[C['cmd']]; result: IrpResult }> {
  const res = await session.client.request(command);
  if (res.result.code >= 2000) throw resultError(res.cmd || command.cmd, res.result);
  return { data: res.data, result: res.result };
}

/** {@link send}, returning the data only. */
export async function call<C extends IrpCommandInput>(
  session: Session,
  command: C,
): Promise<ResponseDataMap[C['cmd']]> {
  return (await send(session, command)).data;
}
