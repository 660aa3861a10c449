import {
  ADDRESS_VISIBILITIES,
  PRESENCE_STATUSES,
  TRANSPORTS,
  type Binding,
  type BindingAddress,
  type IrpNotify,
  type PresenceNotify,
  type ResponseDataMap,
} from '@irp/protocol';
import { CliError } from '../cli/cli.error.js';
import { type CliContext, type CommandSpec } from '../cli/context.js';
import { resultError } from '../cli/error-mapping.js';
import { ExitCode } from '../cli/exit-codes.js';
import { flag, int, list, oneOf, str } from '../cli/options.js';
import { addressText, renderBinding, time } from '../format/render.js';
import { machineAddresses } from '../net/local-addresses.js';
import { parseBindingAddress } from '../net/server-address.js';
import { call, send, withSession, type Session } from '../net/session.js';
import {
  BindingVerifier,
  domainCaChain,
  verdictText,
  type AttestationVerdict,
} from '../pki/binding-verifier.js';
import { signBinding } from '../pki/local-credentials.js';
import { arg, deviceOption } from './common.js';

/** Default lifetime of a binding (the server's default too). */
export const DEFAULT_EXPIRES_SECONDS = 3600;

/** The addresses of `--address` and `--auto`, with `--port` and `--transport` applied. */
export function addressesFromOptions(ctx: CliContext, port?: number): BindingAddress[] {
  const defaultPort = port ?? int(ctx.values, 'port', 1, 65_535);
  const transport = oneOf(str(ctx.values, 'transport'), TRANSPORTS, '--transport');
  const addresses: BindingAddress[] = list(ctx.values, 'address').map((a) =>
    parseBindingAddress(a, defaultPort),
  );
  if (flag(ctx.values, 'auto')) {
    const found = machineAddresses();
    if (found.length === 0)
      throw CliError.local(
        '--auto found no usable address on this machine (only loopback or link-local)',
      );
    addresses.push(
      ...found.map((a) => ({ ...a, ...(defaultPort !== undefined ? { port: defaultPort } : {}) })),
    );
  }
  if (port !== undefined) for (const a of addresses) a.port = port;
  if (transport !== undefined) for (const a of addresses) a.transport = transport;
  return addresses.slice(0, 8);
}

/** Registers (or refreshes) this device's binding, signed when asked (spec §8, §8.2). */
export async function registerBinding(
  ctx: CliContext,
  s: Session,
  opts: { device: string; addresses: BindingAddress[]; expires: number; sign: boolean },
): Promise<{ binding?: Binding; observed?: { family: string; address: string; port?: number } }> {
  const presence = oneOf(str(ctx.values, 'presence'), PRESENCE_STATUSES, '--presence');
  const note = str(ctx.values, 'note');
  const service = str(ctx.values, 'service');
  let attestation;
  if (opts.sign) {
    if (!s.credentials)
      throw CliError.local('--sign needs a certificate', ['run `irp cert request` first']);
    if (!s.address) throw CliError.local('not logged in');
    attestation = signBinding(
      s.credentials,
      { user: s.address, device: opts.device, addresses: opts.addresses },
      opts.expires,
    );
  }
  return call(s, {
    cmd: 'registerAddress',
    device: opts.device,
    addresses: opts.addresses,
    expires: opts.expires,
    ...(presence !== undefined
      ? { presence: { status: presence, ...(note !== undefined ? { note } : {}) } }
      : {}),
    ...(service !== undefined ? { service } : {}),
    ...(attestation ? { attestation } : {}),
  });
}

/** `irp addr register` (spec §8 registerAddress). */
export const addrRegisterCommand: CommandSpec = {
  path: ['addr', 'register'],
  usage:
    '[--auto] [--address IP[:PORT]]… [--port N] [--device NAME] [--expires S] [--presence STATUS] [--note TEXT] [--service LABEL] [--transport T] [--sign]',
  summary:
    'publish where this device can be reached (with --sign, an attestation peers can verify)',
  options: [
    'address',
    'auto',
    'port',
    'device',
    'expires',
    'presence',
    'note',
    'service',
    'transport',
    'sign',
  ],
  args: [0, 0],
  run: async (ctx) => {
    const addresses = addressesFromOptions(ctx);
    if (addresses.length === 0)
      throw CliError.usage('give --address IP[:PORT] (repeatable) or --auto');
    const device = deviceOption(ctx.values);
    const expires = int(ctx.values, 'expires', 60, 86_400) ?? DEFAULT_EXPIRES_SECONDS;
    await withSession(ctx, { login: true }, async (s) => {
      const sign = flag(ctx.values, 'sign');
      if (sign) ctx.out.progress('signing the binding');
      const data = await registerBinding(ctx, s, { device, addresses, expires, sign });
      const observed = data.observed;
      const behindNat =
        observed !== undefined &&
        !(data.binding?.addresses ?? []).some((a) => a.address === observed.address);
      ctx.out.result({ binding: data.binding, observed }, () => [
        `registered device ${device} of ${s.address ?? '?'}${sign ? ' (signed)' : ''}`,
        ...(data.binding ? renderBinding(data.binding, sign ? 'signed' : 'unsigned') : []),
        ...(observed
          ? [
              `the server saw you at ${observed.address}${observed.port !== undefined ? ` port ${observed.port}` : ''}` +
                (behindNat ? ' — not one of the registered addresses (NAT or another route?)' : ''),
            ]
          : []),
      ]);
    });
  },
};

/** `irp addr unregister [--device NAME]` (spec §8 unregisterAddress). */
export const addrUnregisterCommand: CommandSpec = {
  path: ['addr', 'unregister'],
  usage: '[--device NAME]',
  summary: "remove this device's binding",
  options: ['device'],
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const device = deviceOption(ctx.values);
      await call(s, { cmd: 'unregisterAddress', device });
      ctx.out.result({ removed: device }, () => [`binding of device ${device} removed`]);
    }),
};

/** Bindings with their verdicts, as JSON and lines. */
async function judged(
  verifier: BindingVerifier | undefined,
  user: string,
  bindings: readonly Binding[],
): Promise<{ binding: Binding; verdict: AttestationVerdict }[]> {
  return Promise.all(
    bindings.map(async (b) => ({
      binding: b,
      verdict: verifier
        ? await verifier.verify(user, b)
        : b.attestation
          ? ({ status: 'invalid', reason: 'no domain CA to verify with' } as const)
          : ({ status: 'unsigned' } as const),
    })),
  );
}

/** A verifier when any binding is signed (it needs the domain CA chain). */
async function verifierFor(
  ctx: CliContext,
  s: Session,
  bindings: readonly Binding[],
): Promise<BindingVerifier | undefined> {
  if (!bindings.some((b) => b.attestation)) return undefined;
  try {
    return new BindingVerifier(s, await domainCaChain(ctx, s));
  } catch (e) {
    ctx.out.warn(`cannot verify attestations: ${(e as Error).message}`);
    return undefined;
  }
}

/** `irp addr lookup USER` (spec §8 lookupAddress), attestations verified. */
export const addrLookupCommand: CommandSpec = {
  path: ['addr', 'lookup'],
  usage: 'USER',
  summary:
    'where USER can be reached now; signed bindings are verified end to end and the result shown',
  args: [1, 1],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const res = await s.client.request({ cmd: 'lookupAddress', user: arg(ctx, 0) });
      if (res.result.code >= 2000) {
        const referral = res.cmd === 'lookupAddress' ? res.data.referral : undefined;
        const error = resultError('lookupAddress', res.result);
        if (!referral) throw error;
        throw new CliError(
          error.exitCode,
          `${arg(ctx, 0)} belongs to another domain: ${referral.domain}`,
          {
            result: res.result,
            hints: [
              `its DIR is found by DNS SRV _irp._tcp.${referral.domain}; log in there to look it up`,
            ],
          },
        );
      }
      const data = res.data as ResponseDataMap['lookupAddress'];
      const user = data.user ?? arg(ctx, 0);
      const bindings = data.bindings ?? [];
      const results = await judged(await verifierFor(ctx, s, bindings), user, bindings);
      ctx.out.result(
        { user, bindings: results.map((r) => ({ ...r.binding, verification: r.verdict })) },
        () =>
          results.length === 0
            ? [`${user}: no live binding (offline)`]
            : [
                `${user}:`,
                ...results.flatMap((r) => renderBinding(r.binding, verdictText(r.verdict))),
              ],
      );
      const invalid = results.some((r) => r.verdict.status === 'invalid');
      return invalid ? ExitCode.Peer : ExitCode.Ok;
    }),
};

/** `irp addr watch USER…` (spec §8 subscribe): streams presence changes. */
export const addrWatchCommand: CommandSpec = {
  path: ['addr', 'watch'],
  usage: 'USER… [--count N]',
  summary:
    'subscribe and print every presence change of the users (first their current state); Ctrl-C ends',
  options: ['count'],
  args: [1, 1000],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const count = int(ctx.values, 'count', 1, 1_000_000);
      let verifier: BindingVerifier | undefined;
      let seen = 0;
      let queue = Promise.resolve();
      let finish!: (code: number) => void;
      const finished = new Promise<number>((resolve) => (finish = resolve));
      const onPresence = async (n: PresenceNotify): Promise<void> => {
        if (!verifier && n.bindings.some((b) => b.attestation))
          verifier = await verifierFor(ctx, s, n.bindings);
        const results = await judged(verifier, n.user, n.bindings);
        ctx.out.event(
          {
            event: 'presence',
            user: n.user,
            at: new Date(),
            bindings: results.map((r) => ({ ...r.binding, verification: r.verdict })),
          },
          () =>
            [
              `${time(new Date())}  ${n.user}: ${results.length === 0 ? 'offline (no binding)' : `${results.length} binding(s)`}`,
              ...results.map(
                (r) =>
                  `  ${r.binding.device}: ${r.binding.addresses.map(addressText).join(', ')}` +
                  `${r.binding.presence ? `  ${r.binding.presence.status}${r.binding.presence.note ? ` — ${r.binding.presence.note}` : ''}` : ''}` +
                  `  [${verdictText(r.verdict)}]`,
              ),
            ].join('\n'),
        );
        seen += 1;
        if (count !== undefined && seen >= count) finish(ExitCode.Ok);
      };
      const onNotify = (n: IrpNotify): void => {
        switch (n.event) {
          case 'presence':
            queue = queue.then(() => onPresence(n)).catch((e: unknown) => ctx.out.warn(String(e)));
            return;
          case 'watch-removed':
            ctx.out.event(
              { event: 'watch-removed', user: n.user },
              () => `${n.user} ended your watch`,
            );
            return;
          case 'watch-request':
            ctx.out.event(
              { event: 'watch-request', user: n.user },
              () => `${n.user} asks to watch you (irp watchers approve ${n.user})`,
            );
            return;
          case 'session':
            ctx.out.warn(`the server is closing the session (${n.reason})`);
            return;
          case 'certificate':
            return;
        }
      };
      s.client.on('notify', onNotify);
      void s.client.closed.then(() =>
        finish(count !== undefined && seen >= count ? ExitCode.Ok : ExitCode.Connection),
      );
      const { data, result } = await send(s, { cmd: 'subscribe', users: [...ctx.args] });
      for (const sub of data.subscriptions ?? []) {
        ctx.out.note(
          sub.status === 'pending'
            ? `${sub.user}: watch request sent; waiting for approval`
            : `watching ${sub.user}`,
        );
      }
      if (result.code === 1001) ctx.out.note('(some subscriptions are pending approval)');
      const stop = (): void => finish(ExitCode.Ok);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // A watcher only listens: ping so the server's idle timer (spec §6.1) never closes it.
      const keepalive = setInterval(
        () => void s.client.ping().catch(() => undefined),
        Math.max(10, Math.floor(s.greeting.limits.idleTimeoutSeconds / 3)) * 1000,
      );
      try {
        const code = await finished;
        await queue;
        return code;
      } finally {
        clearInterval(keepalive);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    }),
};

/** `irp addr policy domain|watchers|nobody` (spec §8.1 setAddressPolicy). */
export const addrPolicyCommand: CommandSpec = {
  path: ['addr', 'policy'],
  usage: 'domain|watchers|nobody',
  summary: 'who may look up and watch your addresses',
  args: [1, 1],
  run: async (ctx) => {
    const visibility = oneOf(arg(ctx, 0), ADDRESS_VISIBILITIES, 'policy') ?? 'domain';
    await withSession(ctx, { login: true }, async (s) => {
      await call(s, { cmd: 'setAddressPolicy', visibility });
      ctx.out.result({ visibility }, () => [
        `address policy of ${s.address ?? '?'}: ${visibility}`,
      ]);
    });
  },
};

/** `irp watchers list` (spec §8.1 listWatchers). */
export const watchersListCommand: CommandSpec = {
  path: ['watchers', 'list'],
  usage: '',
  summary: 'who watches you, approved or pending',
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const watchers = (await call(s, { cmd: 'listWatchers' })).watchers ?? [];
      ctx.out.result({ watchers }, () =>
        watchers.length
          ? watchers.map(
              (w) => `${w.user.padEnd(32)}  ${w.status.padEnd(8)}  since ${time(w.since)}`,
            )
          : ['no watchers'],
      );
    }),
};

/** `irp watchers approve USER` (spec §8.1 approveWatcher). */
export const watchersApproveCommand: CommandSpec = {
  path: ['watchers', 'approve'],
  usage: 'USER',
  summary: 'let USER see and watch your addresses',
  args: [1, 1],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      await call(s, { cmd: 'approveWatcher', user: arg(ctx, 0) });
      ctx.out.result({ approved: arg(ctx, 0) }, () => [`${arg(ctx, 0)} approved`]);
    }),
};

/** `irp watchers remove USER` (spec §8.1 removeWatcher; also denies a pending request). */
export const watchersRemoveCommand: CommandSpec = {
  path: ['watchers', 'remove'],
  usage: 'USER',
  summary: "end USER's watch, or deny their request",
  args: [1, 1],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      await call(s, { cmd: 'removeWatcher', user: arg(ctx, 0) });
      ctx.out.result({ removed: arg(ctx, 0) }, () => [`${arg(ctx, 0)} removed`]);
    }),
};
