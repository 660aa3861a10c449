import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IrpClient } from '@irp/client';
import { ResultCode } from '@irp/protocol';
import { type TestServer } from '../support/test-server.js';
import {
  P256,
  type Scratch,
  createUser,
  loginUpa,
  ok,
  scratch,
  startPkiServer,
} from './certificates-support.js';

describe('PKCS#12 key backups over IRP (spec §10)', () => {
  let server: TestServer;
  let dir: Scratch;
  let alice: IrpClient;
  let bob: IrpClient;
  /** A PKCS#12 made by openssl (independent of the server's own builder). */
  let pfx: Buffer;

  beforeAll(async () => {
    server = await startPkiServer({ IRP_MAX_PKCS12_PER_USER: '2' });
    dir = await scratch();
    await createUser(server, 'alice');
    await createUser(server, 'bob');
    await ok([
      'req',
      '-x509',
      '-nodes',
      ...P256,
      '-keyout',
      dir.file('k.pem'),
      '-out',
      dir.file('c.pem'),
      '-subj',
      '/CN=backup',
      '-days',
      '2',
    ]);
    await ok([
      'pkcs12',
      '-export',
      '-inkey',
      dir.file('k.pem'),
      '-in',
      dir.file('c.pem'),
      '-out',
      dir.file('b.p12'),
      '-passout',
      'pass:backup secret',
    ]);
    pfx = await dir.read('b.p12');
    alice = await loginUpa(server, 'alice');
    bob = await loginUpa(server, 'bob');
  });
  afterAll(async () => {
    await server?.close();
    await dir?.remove();
  });

  it('upload → list → download byte-identical → delete', async () => {
    const uploaded = await alice.call({ cmd: 'uploadPkcs12', name: 'laptop key', data: pfx });
    const entry = uploaded.pkcs12;
    expect(entry).toMatchObject({
      name: 'laptop key',
      size: pfx.length,
      sha256: createHash('sha256').update(pfx).digest('hex'),
    });
    expect(entry?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs((entry?.createdAt.getTime() ?? 0) - Date.now())).toBeLessThan(10_000);

    expect((await alice.call({ cmd: 'listPkcs12' })).pkcs12).toEqual([entry]);
    const downloaded = await alice.call({ cmd: 'downloadPkcs12', pkcs12Id: entry?.id ?? '' });
    expect(Buffer.from(downloaded.pkcs12?.data ?? new Uint8Array()).equals(pfx)).toBe(true);
    // still the file openssl made: it opens with its passphrase
    await dir.write('back.p12', downloaded.pkcs12?.data ?? new Uint8Array());
    expect(
      await ok(['pkcs12', '-in', dir.file('back.p12'), '-passin', 'pass:backup secret', '-nodes']),
    ).toContain('BEGIN PRIVATE KEY');

    // another user's id is 2303, exactly like an id that does not exist
    for (const cmd of ['downloadPkcs12', 'deletePkcs12'] as const) {
      const r = await bob.request({ cmd, pkcs12Id: entry?.id ?? '' });
      expect(r.result.code).toBe(ResultCode.ObjectDoesNotExist);
    }
    expect((await bob.call({ cmd: 'listPkcs12' })).pkcs12 ?? []).toEqual([]);

    await alice.call({ cmd: 'deletePkcs12', pkcs12Id: entry?.id ?? '' });
    expect((await alice.call({ cmd: 'listPkcs12' })).pkcs12 ?? []).toEqual([]);
    const again = await alice.request({ cmd: 'downloadPkcs12', pkcs12Id: entry?.id ?? '' });
    expect(again.result.code).toBe(ResultCode.ObjectDoesNotExist);
  });

  it('refuses what is not a PFX (2005), files over 64 KiB (2004) and uploads beyond the quota (2306)', async () => {
    const notPfx = await alice.request({
      cmd: 'uploadPkcs12',
      name: 'x',
      data: Buffer.from('hello'),
    });
    expect(notPfx.result.code).toBe(ResultCode.ValueSyntax);
    const big = await alice.request({
      cmd: 'uploadPkcs12',
      name: 'x',
      data: Buffer.alloc(64 * 1024 + 1, 0x30),
    });
    expect(big.result.code).toBe(ResultCode.ValueRange);
    const longName = await alice.request({ cmd: 'uploadPkcs12', name: 'n'.repeat(129), data: pfx });
    expect(longName.result.code).toBe(ResultCode.ValueRange);

    await alice.call({ cmd: 'uploadPkcs12', name: 'one', data: pfx });
    await alice.call({ cmd: 'uploadPkcs12', name: 'two', data: pfx });
    const third = await alice.request({ cmd: 'uploadPkcs12', name: 'three', data: pfx });
    expect(third.result.code).toBe(ResultCode.PolicyError);
    expect((await alice.call({ cmd: 'listPkcs12' })).pkcs12?.map((p) => p.name)).toEqual([
      'one',
      'two',
    ]);
    // the quota is per user
    await bob.call({ cmd: 'uploadPkcs12', name: 'bob', data: pfx });
  });
});
