import * as tls from 'node:tls';
import { type Binding, type BindingAddress } from '@irp/protocol';
import { CliError } from '../cli/cli.error.js';
import { type CliContext, type CommandSpec } from '../cli/context.js';
import { resultError } from '../cli/error-mapping.js';
import { ExitCode } from '../cli/exit-codes.js';
import { flag, int } from '../cli/options.js';
import { addressText, formatFingerprint } from '../format/render.js';
import { machineAddresses } from '../net/local-addresses.js';
import { withSession, type Session } from '../net/session.js';
import { BindingVerifier, domainCaChain, verdictText } from '../pki/binding-verifier.js';
import { ChatSession } from '../peer/chat-session.js';
import { checkPeerCertificate, PEER_ALPN, peerTlsOptions } from '../peer/peer-tls.js';
import { addressesFromOptions, DEFAULT_EXPIRES_SECONDS, registerBinding } from './addr.commands.js';
import { arg, deviceOption } from './common.js';

/** Time allowed for the TCP + TLS handshake with a peer. */
const PEER_CONNECT_TIMEOUT_MS = 8000;

function hostPort(a: BindingAddress): string {
  return a.family === 'ipv6' ? `[${a.address}]:${a.port ?? 0}` : `${a.address}:${a.port ?? 0}`;
}

/** The credentials End2End Direct needs: a certificate (the peer authenticates us by it). */
function requireCredentials(s: Session) {
  if (!s.credentials) {
    throw CliError.local('End2End Direct needs a certificate', [
      'run `irp cert request` (or restore one with `irp backup pull`)',
    ]);
  }
  return s.credentials;
}

/** Resolves when the process is told to stop (SIGINT/SIGTERM). */
function stopSignal(): { promise: Promise<void>; dispose(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const stop = (): void => resolve();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    promise,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

/**
 * `irp peer listen`: listens on this device's addresses with the user's key and
 * certificate, registers them (signed, spec §8.2) and keeps the binding fresh;
 * accepts peers whose certificate is a valid certificate of the domain CA.
 */
export const peerListenCommand: CommandSpec = {
  path: ['peer', 'listen'],
  usage:
    '[--port N] [--address IP]… [--auto] [--device NAME] [--expires S] [--presence STATUS] [--note TEXT] [--once]',
  summary:
    "accept direct, mutually authenticated chats: listen, register this device's address (signed), chat on stdin/stdout",
  options: ['port', 'address', 'auto', 'device', 'expires', 'presence', 'note', 'service', 'once'],
  args: [0, 0],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      const credentials = requireCredentials(s);
      const caChain = await domainCaChain(ctx, s);
      const device = deviceOption(ctx.values);
      const expires = int(ctx.values, 'expires', 60, 86_400) ?? DEFAULT_EXPIRES_SECONDS;
      let addresses = addressesFromOptions(ctx, 1); // port placeholder, replaced below
      if (addresses.length === 0) {
        addresses = machineAddresses().map((a) => ({ ...a, port: 1 }));
        if (addresses.length === 0)
          throw CliError.local('no usable address on this machine', [
            'give --address IP (the server must allow it)',
          ]);
      }
      const chat = new ChatSession(ctx.out, false);
      const once = flag(ctx.values, 'once');
      let finish!: (code: number) => void;
      const finished = new Promise<number>((resolve) => (finish = resolve));
      const supportsStatus = s.greeting.commands.includes('certificateStatus');

      const onSecure = (socket: tls.TLSSocket): void => {
        socket.pause();
        const check = checkPeerCertificate(socket, caChain);
        const who = check.identity?.address ?? socket.remoteAddress ?? 'peer';
        const refuse = (reason: string): void => {
          ctx.out.event(
            { event: 'refused', peer: who, sha256: check.identity?.sha256, reason },
            () => `refused ${who}: ${reason}`,
          );
          socket.destroy();
        };
        if (!check.ok) return refuse(check.reason);
        if (socket.alpnProtocol !== PEER_ALPN)
          return refuse(`the peer does not speak ${PEER_ALPN}`);
        const identity = check.identity;
        const status = supportsStatus
          ? s.client
              .request({
                cmd: 'certificateStatus',
                query: { by: 'sha256', sha256: identity.sha256 },
              })
              .then((r) => (r.cmd === 'certificateStatus' ? r.data.certificate?.status : undefined))
          : Promise.resolve('valid' as const);
        void status.then(
          async (st) => {
            if (st !== 'valid')
              return refuse(`the registry says the peer's certificate is ${st ?? 'unknown'}`);
            const peer = identity.address ?? who;
            const announce = {
              event: 'connected',
              peer,
              sha256: identity.sha256,
              from: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
            };
            if (ctx.out.json) ctx.out.event(announce, () => '');
            else
              ctx.out.tell(
                `connected: ${peer} from ${announce.from} (certificate ${formatFingerprint(identity.sha256).slice(0, 23)}…, verified)`,
              );
            await chat.converse(socket, peer);
            if (ctx.out.json) ctx.out.event({ event: 'disconnected', peer }, () => '');
            else ctx.out.tell(`disconnected: ${peer}`);
            if (once) finish(ExitCode.Ok);
          },
          (e: unknown) => refuse(`cannot check the certificate status: ${(e as Error).message}`),
        );
      };

      const servers: tls.Server[] = [];
      let port = int(ctx.values, 'port', 0, 65_535) ?? 0;
      for (const a of addresses) {
        const server = tls.createServer(
          { ...peerTlsOptions(credentials), requestCert: true, rejectUnauthorized: false },
          onSecure,
        );
        server.on('tlsClientError', (e) => ctx.out.note(`a TLS handshake failed: ${e.message}`));
        await new Promise<void>((resolve, reject) => {
          server.once('error', (e: Error) =>
            reject(
              new CliError(
                ExitCode.Peer,
                `cannot listen on ${a.address} port ${port}: ${e.message}`,
              ),
            ),
          );
          server.listen({ host: a.address, port }, () => resolve());
        });
        const bound = server.address();
        if (port === 0 && bound && typeof bound === 'object') port = bound.port;
        servers.push(server);
      }
      for (const a of addresses) a.port = port;

      const register = async (): Promise<void> => {
        await registerBinding(ctx, s, { device, addresses, expires, sign: true });
      };
      const stop = stopSignal();
      try {
        await register();
        const listening = {
          event: 'listening',
          user: s.address,
          device,
          port,
          addresses: addresses.map(hostPort),
        };
        if (ctx.out.json) ctx.out.event(listening, () => '');
        else
          ctx.out.tell(
            `listening as ${s.address ?? '?'} (device ${device}) on ${addresses.map(hostPort).join(', ')}; registered and signed\n` +
              `peers connect with: irp peer connect ${s.address ?? '?'}`,
          );
        // Refresh the binding before it lapses; ping so the idle timer never closes the session.
        const refresh = setInterval(
          () => void register().catch((e: unknown) => ctx.out.warn(`refresh failed: ${String(e)}`)),
          expires * 800,
        );
        const keepalive = setInterval(
          () => void s.client.ping().catch(() => undefined),
          Math.max(10, Math.floor(s.greeting.limits.idleTimeoutSeconds / 3)) * 1000,
        );
        void s.client.closed.then(() => finish(ExitCode.Connection));
        void stop.promise.then(() => finish(ExitCode.Ok));
        const code = await finished;
        clearInterval(refresh);
        clearInterval(keepalive);
        if (code === ExitCode.Connection)
          ctx.out.warn('the IRP session ended; the binding is no longer refreshed');
        else await s.client.request({ cmd: 'unregisterAddress', device }).catch(() => undefined);
        return code;
      } finally {
        stop.dispose();
        chat.endAll();
        chat.detachStdin();
        for (const server of servers) server.close();
      }
    }),
};

/** Connects to one address and checks the peer; resolves with the socket or a refusal. */
function dial(
  ctx: CliContext,
  s: Session,
  caChain: readonly string[],
  user: string,
  binding: Binding,
  a: BindingAddress,
): Promise<{ socket: tls.TLSSocket } | { refused: string } | { failed: string }> {
  const credentials = requireCredentials(s);
  return new Promise((resolve) => {
    const socket = tls.connect({
      ...peerTlsOptions(credentials),
      host: a.address,
      port: a.port ?? 0,
      // The registry, not a CA name check, says who may answer here: verified below.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ failed: `no TLS handshake within ${PEER_CONNECT_TIMEOUT_MS} ms` });
    }, PEER_CONNECT_TIMEOUT_MS);
    socket.once('error', (e: Error) => {
      clearTimeout(timer);
      resolve({ failed: e.message });
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.pause();
      const refuse = (reason: string): void => {
        socket.destroy();
        resolve({ refused: reason });
      };
      const check = checkPeerCertificate(socket, caChain);
      if (!check.ok) return refuse(check.reason);
      const sha = check.identity.sha256;
      if (!binding.certificates.includes(sha)) {
        return refuse(
          `the peer's certificate (SHA-256 ${sha}, ${check.identity.address ?? check.identity.subject}) is not one the registry lists for ${user}`,
        );
      }
      if (check.identity.address !== user)
        return refuse(
          `the peer's certificate is issued to ${check.identity.address ?? '?'}, not ${user}`,
        );
      if (socket.alpnProtocol !== PEER_ALPN) return refuse(`the peer does not speak ${PEER_ALPN}`);
      ctx.out.progress(`${hostPort(a)}: certificate ${sha.slice(0, 16)}… is listed for ${user}`);
      resolve({ socket });
    });
  });
}

/**
 * `irp peer connect USER`: looks the user up, verifies the signed binding,
 * connects straight to the registered address (no relay) and accepts the peer
 * only if its certificate is one the registry lists for that user; then
 * stdin/stdout are the chat.
 */
export const peerConnectCommand: CommandSpec = {
  path: ['peer', 'connect'],
  usage: 'USER[@DOMAIN] [--wait SECONDS] [--allow-unsigned] [--device NAME]',
  summary:
    'chat directly with USER: look up, verify, connect to their registered address, mutual TLS',
  options: ['wait', 'allow-unsigned', 'device'],
  args: [1, 1],
  run: (ctx) =>
    withSession(ctx, { login: true }, async (s) => {
      requireCredentials(s);
      const wanted = arg(ctx, 0);
      const waitSeconds = int(ctx.values, 'wait', 0, 86_400) ?? 0;
      const onlyDevice = ctx.values.device !== undefined ? deviceOption(ctx.values) : undefined;
      const allowUnsigned = flag(ctx.values, 'allow-unsigned');
      const caChain = await domainCaChain(ctx, s);
      const verifier = new BindingVerifier(s, caChain);
      const deadline = Date.now() + waitSeconds * 1000;
      /** One lookup: the user's IRP address, the addresses worth trying, and why others are not. */
      const lookup = async (): Promise<{
        user: string;
        candidates: { binding: Binding; address: BindingAddress }[];
        skipped: string[];
      }> => {
        const res = await s.client.request({ cmd: 'lookupAddress', user: wanted });
        if (res.cmd !== 'lookupAddress' || res.result.code >= 2000) {
          const referral = res.cmd === 'lookupAddress' ? res.data.referral : undefined;
          if (referral) {
            throw new CliError(
              ExitCode.Peer,
              `${wanted} belongs to another domain (${referral.domain})`,
              {
                result: res.result,
                hints: [
                  "End2End Direct across domains needs a login at that domain's DIR; not supported by irp yet",
                ],
              },
            );
          }
          throw resultError('lookupAddress', res.result);
        }
        const user = res.data.user ?? wanted;
        const skipped: string[] = [];
        const candidates: { binding: Binding; address: BindingAddress }[] = [];
        for (const b of res.data.bindings ?? []) {
          if (onlyDevice !== undefined && b.device !== onlyDevice) continue;
          const usable = b.addresses.filter(
            (a) => a.port !== undefined && (a.transport ?? 'tcp') === 'tcp',
          );
          if (usable.length === 0) {
            skipped.push(`device ${b.device}: no TCP address with a port`);
            continue;
          }
          const verdict = await verifier.verify(user, b);
          if (verdict.status === 'invalid' || (verdict.status === 'unsigned' && !allowUnsigned)) {
            skipped.push(
              `device ${b.device}: ${verdictText(verdict)}${verdict.status === 'unsigned' ? ' (use --allow-unsigned to try it anyway)' : ''}`,
            );
            continue;
          }
          ctx.out.progress(`device ${b.device}: ${verdictText(verdict)}`);
          for (const address of usable) candidates.push({ binding: b, address });
        }
        return { user, candidates, skipped };
      };
      let found = await lookup();
      if (found.candidates.length === 0 && Date.now() < deadline) {
        ctx.out.progress(`waiting up to ${waitSeconds} s for ${found.user} to come online`);
        while (found.candidates.length === 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          found = await lookup();
        }
      }
      const { user, candidates, skipped } = found;
      if (candidates.length === 0) {
        throw new CliError(ExitCode.Peer, `${user} has no binding to connect to`, {
          hints: skipped,
        });
      }
      const failures: string[] = [];
      let connected: { socket: tls.TLSSocket; address: BindingAddress } | undefined;
      let refusedAny = false;
      for (const c of candidates) {
        ctx.out.progress(
          `connecting to ${user} at ${addressText(c.address)} (device ${c.binding.device})`,
        );
        const r = await dial(ctx, s, caChain, user, c.binding, c.address);
        if ('socket' in r) {
          connected = { socket: r.socket, address: c.address };
          break;
        }
        if ('refused' in r) refusedAny = true;
        failures.push(
          `${hostPort(c.address)}: ${'refused' in r ? `REFUSED — ${r.refused}` : r.failed}`,
        );
      }
      if (!connected) {
        throw new CliError(
          ExitCode.Peer,
          refusedAny
            ? `refused: no address of ${user} answered with a certificate of ${user}`
            : `cannot reach ${user}`,
          {
            hints: failures,
          },
        );
      }
      // The IRP session is not needed during the chat.
      await s.client.close();
      const chat = new ChatSession(ctx.out, true);
      const announce = { event: 'connected', peer: user, address: hostPort(connected.address) };
      if (ctx.out.json) ctx.out.event(announce, () => '');
      else
        ctx.out.tell(
          `connected to ${user} at ${hostPort(connected.address)}, directly; type to chat, Ctrl-D to end`,
        );
      const stop = stopSignal();
      void stop.promise.then(() => chat.endAll());
      try {
        await chat.converse(connected.socket, user);
      } finally {
        stop.dispose();
        chat.detachStdin();
      }
      if (ctx.out.json) ctx.out.event({ event: 'disconnected', peer: user }, () => '');
      else ctx.out.tell(`disconnected from ${user}`);
      return ExitCode.Ok;
    }),
};
