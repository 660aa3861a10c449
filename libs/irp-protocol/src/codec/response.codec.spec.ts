/**
 * Responses and notifies of spec §7–§11 against hand-written XML: the encoder
 * must produce it (compared canonically), the decoder must read it.
 */
import { describe, expect, it } from 'vitest';
import { type IrpNotify } from '../messages/notify.js';
import { type IrpResponse } from '../messages/responses.js';
import { canonical, compact, irp, utf8 } from '../testing/test-buffers.js';
import { decodeServerMessage, encodeNotify, encodeResponse } from './envelope.js';

const T0 = '2026-11-25T08:00:00Z';
const T1 = '2026-11-25T09:00:00Z';
const d = (s: string): Date => new Date(s);
const SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const SERIAL = '0102030405060708090a0b0c0d0e0f10';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

function both(xml: string, response: IrpResponse): void {
  expect(canonical(encodeResponse(response))).toEqual(canonical(xml));
  expect(decodeServerMessage(utf8(xml))).toEqual({ kind: 'response', response });
}

function bothNotify(xml: string, notify: IrpNotify): void {
  expect(canonical(encodeNotify(notify))).toEqual(canonical(xml));
  expect(decodeServerMessage(utf8(xml))).toEqual({ kind: 'notify', notify });
}

const ok = { code: 1000, message: 'Command completed successfully' } as const;

describe('address registry responses (spec §4, §8)', () => {
  it('lookupAddress: the spec §4 example', () => {
    both(
      `<irp version="1.0"><response id="7" cmd="lookupAddress" txn="S-000193">
        <result code="1000">Command completed successfully</result>
        <user>bob@example.com</user>
        <binding device="phone" expiresAt="${T1}" updatedAt="${T0}">
          <address family="ipv6" port="4605" transport="tcp">2001:db8::42</address>
          <presence status="available">in a meeting until 10</presence>
          <certificate sha256="${SHA}"/>
        </binding>
      </response></irp>`,
      {
        id: '7',
        cmd: 'lookupAddress',
        txn: 'S-000193',
        result: ok,
        data: {
          user: 'bob@example.com',
          bindings: [
            {
              device: 'phone',
              expiresAt: d(T1),
              updatedAt: d(T0),
              addresses: [
                { family: 'ipv6', port: 4605, transport: 'tcp', address: '2001:db8::42' },
              ],
              presence: { status: 'available', note: 'in a meeting until 10' },
              certificates: [SHA],
            },
          ],
        },
      },
    );
  });

  it('lookupAddress: a referral to another domain with 2303', () => {
    both(
      irp(
        '<response id="8" cmd="lookupAddress" txn="S-2"><result code="2303">Object does not exist</result><referral domain="other.example"/></response>',
      ),
      {
        id: '8',
        cmd: 'lookupAddress',
        txn: 'S-2',
        result: { code: 2303, message: 'Object does not exist' },
        data: { referral: { domain: 'other.example' } },
      },
    );
  });

  it('registerAddress: stored binding with attestation, and observed', () => {
    const text = Buffer.from('IRP-BINDING-1\nuser:alice@example.com');
    const sig = Buffer.from([1, 2, 3, 250]);
    both(
      irp(
        `<response id="5" cmd="registerAddress" txn="S-3"><result code="1000">Command completed successfully</result>` +
          `<binding device="laptop" expiresAt="${T1}"><address family="ipv4" port="4605">192.0.2.7</address>` +
          `<service>chat</service><attestation cert="${SHA}" alg="ed25519" text="${text.toString('base64')}">${sig.toString('base64')}</attestation></binding>` +
          `<observed family="ipv4" port="51234">198.51.100.9</observed></response>`,
      ),
      {
        id: '5',
        cmd: 'registerAddress',
        txn: 'S-3',
        result: ok,
        data: {
          binding: {
            device: 'laptop',
            expiresAt: d(T1),
            addresses: [{ family: 'ipv4', port: 4605, address: '192.0.2.7' }],
            service: 'chat',
            certificates: [],
            attestation: { cert: SHA, alg: 'ed25519', text, signature: sig },
          },
          observed: { family: 'ipv4', port: 51234, address: '198.51.100.9' },
        },
      },
    );
  });

  it('subscribe: one subscription per user, 1001 when any is pending', () => {
    both(
      irp(
        '<response id="s" cmd="subscribe" txn="S-4"><result code="1001">Command completed successfully; action pending</result>' +
          '<subscription user="bob@example.com" status="active"/><subscription user="carol@example.com" status="pending"/></response>',
      ),
      {
        id: 's',
        cmd: 'subscribe',
        txn: 'S-4',
        result: { code: 1001, message: 'Command completed successfully; action pending' },
        data: {
          subscriptions: [
            { user: 'bob@example.com', status: 'active' },
            { user: 'carol@example.com', status: 'pending' },
          ],
        },
      },
    );
  });

  it('listWatchers', () => {
    both(
      irp(
        `<response id="w" cmd="listWatchers" txn="S-5"><result code="1000">Command completed successfully</result>` +
          `<watcher user="carol@example.com" status="approved" since="${T0}"/><watcher user="dave@example.com" status="pending"/></response>`,
      ),
      {
        id: 'w',
        cmd: 'listWatchers',
        txn: 'S-5',
        result: ok,
        data: {
          watchers: [
            { user: 'carol@example.com', status: 'approved', since: d(T0) },
            { user: 'dave@example.com', status: 'pending' },
          ],
        },
      },
    );
  });
});

describe('directory responses (spec §7)', () => {
  it('listUsers: a page of public records', () => {
    both(
      compact(`<irp version="1.0"><response id="l" cmd="listUsers" txn="S-6">
        <result code="1000">Command completed successfully</result>
        <users total="2" offset="0" limit="50">
          <user><userId>alice</userId><address>alice@example.com</address><displayName>Alice</displayName><status>active</status></user>
          <user><userId>bob</userId><address>bob@example.com</address><organization>B &amp; B</organization><status>disabled</status></user>
        </users></response></irp>`),
      {
        id: 'l',
        cmd: 'listUsers',
        txn: 'S-6',
        result: ok,
        data: {
          users: {
            total: 2,
            offset: 0,
            limit: 50,
            users: [
              {
                userId: 'alice',
                address: 'alice@example.com',
                displayName: 'Alice',
                status: 'active',
              },
              {
                userId: 'bob',
                address: 'bob@example.com',
                organization: 'B & B',
                status: 'disabled',
              },
            ],
          },
        },
      },
    );
  });

  it('info: a full own record with attributes and timestamps', () => {
    both(
      compact(`<irp version="1.0"><response id="i" cmd="info" txn="S-7">
        <result code="1000">Command completed successfully</result>
        <user><userId>alice</userId><address>alice@example.com</address><email>alice@example.com</email>
          <attribute name="team">blue</attribute><status>active</status><upaEnabled>false</upaEnabled>
          <createdAt>${T0}</createdAt><updatedAt>${T1}</updatedAt></user></response></irp>`),
      {
        id: 'i',
        cmd: 'info',
        txn: 'S-7',
        result: ok,
        data: {
          user: {
            userId: 'alice',
            address: 'alice@example.com',
            email: 'alice@example.com',
            attributes: [{ name: 'team', value: 'blue' }],
            status: 'active',
            upaEnabled: false,
            createdAt: d(T0),
            updatedAt: d(T1),
          },
        },
      },
    );
  });
});

describe('PKI responses (spec §9)', () => {
  it('getCACertificates: chain, CRL and OCSP URLs', () => {
    both(
      irp(
        `<response id="g" cmd="getCACertificates" txn="S-8"><result code="1000">Command completed successfully</result>` +
          `<certificate sha256="${SHA}" notBefore="${T0}" notAfter="${T1}">${PEM}</certificate>` +
          `<crl url="http://dir.example.com/crl"/><ocsp url="http://dir.example.com/ocsp"/></response>`,
      ),
      {
        id: 'g',
        cmd: 'getCACertificates',
        txn: 'S-8',
        result: ok,
        data: {
          certificates: [{ sha256: SHA, notBefore: d(T0), notAfter: d(T1), pem: PEM }],
          crlUrl: 'http://dir.example.com/crl',
          ocspUrl: 'http://dir.example.com/ocsp',
        },
      },
    );
  });

  it('requestCertificate 1000: certificate, chain and (keygen) pkcs12', () => {
    const p12 = Buffer.from([0x30, 0x80, 0x02, 0x01, 0x03]);
    both(
      irp(
        `<response id="9" cmd="requestCertificate" txn="S-9"><result code="1000">Command completed successfully</result>` +
          `<certificate serial="${SERIAL}" sha256="${SHA}" notBefore="${T0}" notAfter="${T1}" status="valid" profile="user">${PEM}</certificate>` +
          `<chain><certificate sha256="${SHA}" notBefore="${T0}" notAfter="${T1}">${PEM}</certificate></chain>` +
          `<pkcs12>${p12.toString('base64')}</pkcs12></response>`,
      ),
      {
        id: '9',
        cmd: 'requestCertificate',
        txn: 'S-9',
        result: ok,
        data: {
          certificate: {
            serial: SERIAL,
            sha256: SHA,
            notBefore: d(T0),
            notAfter: d(T1),
            status: 'valid',
            profile: 'user',
            pem: PEM,
          },
          chain: [{ sha256: SHA, notBefore: d(T0), notAfter: d(T1), pem: PEM }],
          pkcs12: p12,
        },
      },
    );
  });

  it('requestCertificate 1001: a pending request', () => {
    both(
      irp(
        `<response id="9" cmd="requestCertificate" txn="S-10"><result code="1001">pending</result>` +
          `<request id="R-17" status="pending"/><chain><certificate sha256="${SHA}" notBefore="${T0}" notAfter="${T1}">${PEM}</certificate></chain></response>`,
      ),
      {
        id: '9',
        cmd: 'requestCertificate',
        txn: 'S-10',
        result: { code: 1001, message: 'pending' },
        data: {
          request: { id: 'R-17', status: 'pending' },
          chain: [{ sha256: SHA, notBefore: d(T0), notAfter: d(T1), pem: PEM }],
        },
      },
    );
  });

  it('listCertificates: without PEM, with revokedAt/reason when superseded', () => {
    both(
      irp(
        `<response id="l" cmd="listCertificates" txn="S-11"><result code="1000">Command completed successfully</result>` +
          `<certificate serial="${SERIAL}" sha256="${SHA}" notBefore="${T0}" notAfter="${T1}" status="superseded" profile="device" revokedAt="${T1}" reason="superseded"/>` +
          `</response>`,
      ),
      {
        id: 'l',
        cmd: 'listCertificates',
        txn: 'S-11',
        result: ok,
        data: {
          certificates: [
            {
              serial: SERIAL,
              sha256: SHA,
              notBefore: d(T0),
              notAfter: d(T1),
              status: 'superseded',
              profile: 'device',
              revokedAt: d(T1),
              reason: 'superseded',
            },
          ],
        },
      },
    );
  });

  it('certificateStatus: unknown, only the attribute asked for', () => {
    both(
      irp(
        `<response id="c" cmd="certificateStatus" txn="S-12"><result code="1000">Command completed successfully</result><certificate sha256="${SHA}" status="unknown"/></response>`,
      ),
      {
        id: 'c',
        cmd: 'certificateStatus',
        txn: 'S-12',
        result: ok,
        data: { certificate: { sha256: SHA, status: 'unknown' } },
      },
    );
  });
});

describe('PKCS#12 responses (spec §10)', () => {
  it('uploadPkcs12 and listPkcs12 entries', () => {
    const entry = { id: '42', name: 'laptop', size: 2048, sha256: SHA, createdAt: d(T0) };
    const attrs = `id="42" name="laptop" size="2048" sha256="${SHA}" createdAt="${T0}"`;
    both(
      irp(
        `<response id="u" cmd="uploadPkcs12" txn="S-13"><result code="1000">ok</result><pkcs12 ${attrs}/></response>`,
      ),
      {
        id: 'u',
        cmd: 'uploadPkcs12',
        txn: 'S-13',
        result: { code: 1000, message: 'ok' },
        data: { pkcs12: entry },
      },
    );
    both(
      irp(
        `<response id="l" cmd="listPkcs12" txn="S-14"><result code="1000">ok</result><pkcs12 ${attrs}/><pkcs12 ${attrs}/></response>`,
      ),
      {
        id: 'l',
        cmd: 'listPkcs12',
        txn: 'S-14',
        result: { code: 1000, message: 'ok' },
        data: { pkcs12: [entry, entry] },
      },
    );
  });

  it('downloadPkcs12 with base64 content', () => {
    const data = Buffer.from([0x30, 0x82, 0x00, 0x01, 0xff]);
    both(
      irp(
        `<response id="d" cmd="downloadPkcs12" txn="S-15"><result code="1000">ok</result><pkcs12 id="42" name="n" size="5" sha256="${SHA}" createdAt="${T0}">${data.toString('base64')}</pkcs12></response>`,
      ),
      {
        id: 'd',
        cmd: 'downloadPkcs12',
        txn: 'S-15',
        result: { code: 1000, message: 'ok' },
        data: { pkcs12: { id: '42', name: 'n', size: 5, sha256: SHA, createdAt: d(T0), data } },
      },
    );
  });
});

describe('notifies (spec §11)', () => {
  it('presence with all live bindings (possibly none)', () => {
    bothNotify(
      irp(
        `<notify event="presence" user="bob@example.com"><binding device="phone" expiresAt="${T1}"><address family="ipv6">2001:db8::42</address><presence status="dnd"/></binding></notify>`,
      ),
      {
        event: 'presence',
        user: 'bob@example.com',
        bindings: [
          {
            device: 'phone',
            expiresAt: d(T1),
            addresses: [{ family: 'ipv6', address: '2001:db8::42' }],
            presence: { status: 'dnd' },
            certificates: [],
          },
        ],
      },
    );
    bothNotify(irp('<notify event="presence" user="bob@example.com"/>'), {
      event: 'presence',
      user: 'bob@example.com',
      bindings: [],
    });
  });

  it('certificate: newly issued (PEM) or a rejected request', () => {
    bothNotify(
      irp(
        `<notify event="certificate"><certificate serial="${SERIAL}" sha256="${SHA}" notBefore="${T0}" notAfter="${T1}" status="valid">${PEM}</certificate></notify>`,
      ),
      {
        event: 'certificate',
        certificate: {
          serial: SERIAL,
          sha256: SHA,
          notBefore: d(T0),
          notAfter: d(T1),
          status: 'valid',
          pem: PEM,
        },
      },
    );
    bothNotify(irp('<notify event="certificate"><request id="R-17" status="rejected"/></notify>'), {
      event: 'certificate',
      request: { id: 'R-17', status: 'rejected' },
    });
  });

  it('refuses a certificate notify with neither certificate nor request (2003)', () => {
    expect(() => decodeServerMessage(utf8(irp('<notify event="certificate"/>')))).toThrow(
      expect.objectContaining({ code: 2003 }) as Error,
    );
  });
});

describe('time values (spec §3)', () => {
  it('accepts RFC 3339 offsets and fractions from a server, normalising to UTC', () => {
    const xml = irp(
      '<response id="w" cmd="listWatchers" txn="t"><result code="1000">ok</result><watcher user="u" status="approved" since="2026-11-25T10:00:00.250+02:00"/></response>',
    );
    const msg = decodeServerMessage(utf8(xml));
    expect(msg).toMatchObject({
      response: { data: { watchers: [{ since: d('2026-11-25T08:00:00.250Z') }] } },
    });
  });

  it.each([
    '2026-11-25 08:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-11-25T24:00:00Z',
    '2026-11-25T08:00:60Z',
    '2026-11-25T08:00:00',
  ])('refuses %j with 2005', (t) => {
    const xml = irp(
      `<response id="w" cmd="listWatchers" txn="t"><result code="1000">ok</result><watcher user="u" status="approved" since="${t}"/></response>`,
    );
    expect(() => decodeServerMessage(utf8(xml))).toThrow(
      expect.objectContaining({ code: 2005, id: 'w' }) as Error,
    );
  });

  it('writes times with second precision and Z', () => {
    const r: IrpResponse = {
      id: 'w',
      cmd: 'listWatchers',
      txn: 't',
      result: ok,
      data: { watchers: [{ user: 'u', status: 'pending', since: d('2026-11-25T08:00:00.999Z') }] },
    };
    expect(encodeResponse(r).toString()).toContain('since="2026-11-25T08:00:00Z"');
  });
});
