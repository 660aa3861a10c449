import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '@irp/protocol';
import { DomainError, DomainErrorCode } from '../common/domain.error.js';
import {
  startIdentityServices,
  type IdentityTestContext,
} from '../identity/testing/identity-testing.js';
import { type Actor } from './actor.js';

/** The append-only audit log (spec §13) on the test database (PostgreSQL or embedded). */
describe('AuditService', () => {
  let t: IdentityTestContext;
  const operator: Actor = {
    kind: 'operator',
    id: 'ops',
    authMethod: 'password',
    sourceAddress: '192.0.2.1',
  };

  beforeAll(async () => {
    t = await startIdentityServices();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function count(): Promise<number> {
    const [row] = await t.dataSource.query<
      {
        n: number;
      }[]
    >('SELECT count(*)::int AS n FROM irp_audit_log');
    return row?.n ?? 0;
  }

  it('writes one row with every column of spec §13', async () => {
    await t.audit.record(t.dataSource.manager, {
      actor: { ...operator, txn: 'S-1' },
      action: 'disableUser',
      target: 'alice',
      resultCode: ResultCode.Success,
      details: { why: 'test' },
    });
    const [row] = await t.audit.list({ action: 'disableUser', target: 'alice' });
    expect(row).toMatchObject({
      actorKind: 'operator',
      actorId: 'ops',
      authMethod: 'password',
      sourceAddress: '192.0.2.1',
      action: 'disableUser',
      target: 'alice',
      resultCode: 1000,
      txn: 'S-1',
      details: { why: 'test' },
    });
    expect(row?.at).toBeInstanceOf(Date);
  });

  it.each([
    ['UPDATE', `UPDATE irp_audit_log SET result_code = 1000`],
    ['UPDATE of no row', `UPDATE irp_audit_log SET target = 'x' WHERE id < 0`],
    ['DELETE', `DELETE FROM irp_audit_log`],
    ['DELETE of no row', `DELETE FROM irp_audit_log WHERE id < 0`],
    ['TRUNCATE', `TRUNCATE irp_audit_log`],
  ])('refuses %s, for the application role too', async (_name, sql) => {
    const before = await count();
    await expect(t.dataSource.query(sql)).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
  });

  it('commits a change and its row together (result 1000)', async () => {
    await t.dataSource.query('CREATE TABLE IF NOT EXISTS t_audit_probe (v text PRIMARY KEY)');
    await t.audit.transaction({ actor: operator, action: 'probe', target: 'ok' }, async (m) => {
      await m.query(`INSERT INTO t_audit_probe VALUES ('ok')`);
    });
    expect(await t.dataSource.query(`SELECT v FROM t_audit_probe WHERE v = 'ok'`)).toHaveLength(1);
    const rows = await t.audit.list({ action: 'probe', target: 'ok' });
    expect(rows.map((r) => r.resultCode)).toEqual([1000]);
  });

  it('rolls back a refused change and writes one row with its result code', async () => {
    await t.dataSource.query('CREATE TABLE IF NOT EXISTS t_audit_probe (v text PRIMARY KEY)');
    const refused = t.audit.transaction(
      { actor: operator, action: 'probe', target: 'refused' },
      async (m) => {
        await m.query(`INSERT INTO t_audit_probe VALUES ('refused')`);
        throw new DomainError(DomainErrorCode.Exists, 'Object exists');
      },
    );
    await expect(refused).rejects.toMatchObject({ code: DomainErrorCode.Exists });
    expect(
      await t.dataSource.query(`SELECT v FROM t_audit_probe WHERE v = 'refused'`),
    ).toHaveLength(0);
    const rows = await t.audit.list({ action: 'probe', target: 'refused' });
    expect(rows.map((r) => r.resultCode)).toEqual([ResultCode.ObjectExists]);
  });

  it('records an unexpected error as 2400 and a committed refusal with its own code, once each', async () => {
    await expect(
      t.audit.action({ actor: operator, action: 'probe', target: 'boom' }, () =>
        Promise.reject(new Error('boom')),
      ),
    ).rejects.toThrow('boom');
    await expect(
      t.audit.action({ actor: operator, action: 'probe', target: 'counted' }, async (a) => {
        a.note.resultCode = ResultCode.AuthenticationError;
        await a.commit(() => Promise.resolve());
        throw new DomainError(DomainErrorCode.AuthenticationFailed, 'Authentication error');
      }),
    ).rejects.toBeInstanceOf(DomainError);
    expect(
      (await t.audit.list({ action: 'probe', target: 'boom' })).map((r) => r.resultCode),
    ).toEqual([2400]);
    expect(
      (await t.audit.list({ action: 'probe', target: 'counted' })).map((r) => r.resultCode),
    ).toEqual([2200]);
  });
});
