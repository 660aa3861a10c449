import { promises as dns, type SrvRecord } from 'node:dns';
import { IRP_PORT, SRV_SERVICE } from '@irp/protocol';
import { IrpClientError } from './errors/irp-client.error.js';

/** Looks up SRV records; `dns.promises.resolveSrv` by default, injectable for tests. */
export type SrvLookup = (name: string) => Promise<SrvRecord[]>;

/** A host and port to try, in order. */
export interface IrpTarget {
  host: string;
  port: number;
}

/** Options of {@link resolveIrpTargets}. */
export interface ResolveTargetsOptions {
  /** SRV lookup function (default: the system resolver). */
  resolveSrv?: SrvLookup;
  /** Random number in [0, 1) for the weighted choice (default `Math.random`). */
  random?: () => number;
}

/** DNS answers that mean "no SRV record", after which spec §1 falls back to port 4604. */
const NO_RECORD_CODES = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Orders SRV records per RFC 2782: ascending priority; within one priority a
 * weighted random order (weight-0 records first in the list, then repeatedly
 * pick the first record whose running weight sum reaches a random number in
 * [0, total]).
 */
export function orderSrvRecords(
  records: readonly SrvRecord[],
  random: () => number = Math.random,
): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) {
    const group = byPriority.get(r.priority) ?? [];
    group.push(r);
    byPriority.set(r.priority, group);
  }
  const ordered: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const group = byPriority.get(priority) ?? [];
    // RFC 2782: "arrange all SRV RRs (that have not been ordered yet) in any
    // order, except that all those with weight 0 are placed at the beginning".
    const remaining = [
      ...group.filter((r) => r.weight === 0),
      ...group.filter((r) => r.weight > 0),
    ];
    while (remaining.length > 0) {
      const total = remaining.reduce((sum, r) => sum + r.weight, 0);
      const threshold = Math.floor(random() * (total + 1)); // uniform integer in [0, total]
      let running = 0;
      let index = remaining.length - 1;
      for (let i = 0; i < remaining.length; i++) {
        running += (remaining[i] as SrvRecord).weight;
        if (running >= threshold) {
          index = i;
          break;
        }
      }
      ordered.push(...remaining.splice(index, 1));
    }
  }
  return ordered;
}

/**
 * The targets to try for the DIR of `domain` (spec §1): the `_irp._tcp.<domain>`
 * SRV records in RFC 2782 order, or `<domain>:4604` when there is no SRV record
 * (NXDOMAIN or no data). Other DNS failures are thrown rather than guessed
 * around. A single record with target `.` means the service is decidedly not
 * available (RFC 2782): an {@link IrpClientError} is thrown.
 */
export async function resolveIrpTargets(
  domain: string,
  opts: ResolveTargetsOptions = {},
): Promise<IrpTarget[]> {
  const lookup = opts.resolveSrv ?? ((name: string) => dns.resolveSrv(name));
  let records: SrvRecord[];
  try {
    records = await lookup(`${SRV_SERVICE}.${domain}`);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NO_RECORD_CODES.has(code))
      return [{ host: domain, port: IRP_PORT }];
    throw e;
  }
  if (records.length === 0) return [{ host: domain, port: IRP_PORT }];
  const usable = records.filter((r) => r.name !== '.' && r.name !== '');
  if (usable.length === 0) {
    throw new IrpClientError(`IRP service is not available for ${domain} (SRV target ".")`);
  }
  return orderSrvRecords(usable, opts.random).map((r) => ({
    host: r.name.replace(/\.$/, ''),
    port: r.port,
  }));
}
