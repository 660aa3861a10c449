import { isIP, isIPv6 } from 'node:net';
import { IRP_PORT } from '@irp/protocol';
import { CliError } from '../cli/cli.error.js';
import { type ServerTarget } from '../store/profile-store.js';

/**
 * Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address
 * (port 4604 when absent, spec §1).
 * @throws CliError (usage)
 */
export function parseServerAddress(text: string): ServerTarget {
  const bad = (): CliError =>
    CliError.usage(
      `not a server address: ${JSON.stringify(text)} (use HOST[:PORT] or [IPv6]:PORT)`,
    );
  const t = text.trim();
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) {
    host = bracket[1] as string;
    portText = bracket[2];
    if (!isIPv6(host)) throw bad();
  } else if (isIPv6(t)) {
    host = t;
  } else {
    const m = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(t);
    if (!m) throw bad();
    host = m[1] as string;
    portText = m[2];
  }
  const port = portText === undefined ? IRP_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw bad();
  return { host, port };
}

/** `host:port`, with brackets around IPv6 addresses. */
export function formatTarget(target: ServerTarget): string {
  return isIP(target.host) === 6
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
}

/**
 * Parses an address to register: `IP`, `IP:PORT` (IPv4), `[IPv6]:PORT` or a bare
 * IPv6 address; `defaultPort` applies when none is given.
 * @throws CliError (usage)
 */
export function parseBindingAddress(
  text: string,
  defaultPort?: number,
): { family: 'ipv4' | 'ipv6'; address: string; port?: number } {
  const bad = (): CliError =>
    CliError.usage(`not an IP address: ${JSON.stringify(text)} (use IP, IPv4:PORT or [IPv6]:PORT)`);
  let address = text.trim();
  let port: number | undefined = defaultPort;
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  const v4port = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(address);
  if (bracket) {
    address = bracket[1] as string;
    port = Number(bracket[2]);
  } else if (v4port) {
    address = v4port[1] as string;
    port = Number(v4port[2]);
  }
  const family = isIP(address);
  if (family === 0) throw bad();
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) throw bad();
  return {
    family: family === 6 ? 'ipv6' : 'ipv4',
    address,
    ...(port !== undefined ? { port } : {}),
  };
}
