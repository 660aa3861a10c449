/**
 * Envelope (spec §4) and session commands (spec §6) from hand-written byte
 * fixtures, plus greeting/response/notify encoding against hand-written XML.
 */
import { describe, expect, it } from 'vitest';
import { IrpProtocolError } from '../errors/irp-protocol.error.js';
import { DEFAULT_XML_LIMITS } from '../limits.js';
import { type Greeting } from '../messages/greeting.js';
import { type IrpResponse } from '../messages/responses.js';
import { ResultCode } from '../result-codes.js';
import { canonical, compact, irp, irpBytes, utf8 } from '../testing/test-buffers.js';
import {
  decodeCommand,
  decodeServerMessage,
  encodeCommand,
  encodeGreeting,
  encodeNotify,
  encodeResponse,
  errorResponse,
} from './envelope.js';

const decode = (inner: string) => decodeCommand(irpBytes(inner), DEFAULT_XML_LIMITS);

function refusal(xml: Uint8Array): IrpProtocolError {
  try {
    decodeCommand(xml, DEFAULT_XML_LIMITS);
  } catch (e) {
    if (e instanceof IrpProtocolError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const refuse = (inner: string) => refusal(irpBytes(inner));

describe('decodeCommand: session commands (spec §6)', () => {
  it('decodes hello, ping and logout', () => {
    expect(decode('<hello id="h1"/>')).toEqual({ cmd: 'hello', id: 'h1' });
    expect(decode('<ping id="p.1"/>')).toEqual({ cmd: 'ping', id: 'p.1' });
    expect(decode('<logout id="x:y-z_"/>')).toEqual({ cmd: 'logout', id: 'x:y-z_' });
  });

  it('decodes an SCA login (spec §6.2)', () => {
    expect(decode('<login id="1" method="sca"/>')).toEqual({
      cmd: 'login',
      id: '1',
      method: 'sca',
    });
  });

  it('decodes a UPA login keeping passwords exactly as sent (spec §3, §6.3)', () => {
    const cmd = decode(
      '<login id="1" method="upa"><user> alice@example.com </user>' +
        '<password>  p&amp;ss &lt;w&gt;ord\t</password><newPassword> n </newPassword></login>',
    );
    expect(cmd).toEqual({
      cmd: 'login',
      id: '1',
      method: 'upa',
      user: 'alice@example.com',
      password: '  p&ss <w>ord\t',
      newPassword: ' n ',
    });
  });

  it('accepts an XML declaration, comments and CDATA', () => {
    const xml = utf8(
      '<?xml version="1.0" encoding="UTF-8"?><!-- c --><irp version="1.0">' +
        '<login id="1" method="upa"><user>bob</user><password><![CDATA[a<b]]>&amp;c</password></login></irp>',
    );
    expect(decodeCommand(xml, DEFAULT_XML_LIMITS)).toMatchObject({ password: 'a<b&c' });
  });

  it('ignores unknown attributes and children of a known command (spec §3)', () => {
    expect(decode('<ping id="1" foo="bar"><x:extra xmlns:x="urn:x">1</x:extra></ping>')).toEqual({
      cmd: 'ping',
      id: '1',
    });
  });

  it('refuses a login without method (2003) and with an unknown method (2004)', () => {
    expect(refuse('<login id="1"/>')).toMatchObject({ code: 2003, id: '1', cmd: 'login' });
    expect(refuse('<login id="1" method="kerberos"/>')).toMatchObject({
      code: 2004,
      id: '1',
      cmd: 'login',
    });
  });

  it('refuses a UPA login without user or password (2003)', () => {
    expect(refuse('<login id="1" method="upa"><password>x</password></login>')).toMatchObject({
      code: 2003,
    });
    expect(refuse('<login id="1" method="upa"><user>a</user></login>')).toMatchObject({
      code: 2003,
    });
    expect(
      refuse('<login id="1" method="upa"><user> </user><password>x</password></login>'),
    ).toMatchObject({
      code: 2003,
    });
  });

  it('refuses a parameter given twice (2001, identified)', () => {
    expect(
      refuse(
        '<login id="1" method="upa"><user>a</user><user>b</user><password>x</password></login>',
      ),
    ).toMatchObject({ code: 2001, id: '1', cmd: 'login' });
  });
});

describe('decodeCommand: envelope refusals (spec §4)', () => {
  const unidentified = { id: '', cmd: '' };

  it.each([
    ['root other than <irp>', '<irq version="1.0"><ping id="1"/></irq>'],
    ['missing version', '<irp><ping id="1"/></irp>'],
    ['zero children', '<irp version="1.0"></irp>'],
    ['zero children (text only)', '<irp version="1.0">ping</irp>'],
    ['two children', '<irp version="1.0"><ping id="1"/><ping id="2"/></irp>'],
    ['malformed XML', '<irp version="1.0"><ping id="1"></irp>'],
    ['two roots', '<irp version="1.0"><ping id="1"/></irp><irp version="1.0"/>'],
    ['empty document', ''],
    ['not XML at all', 'hello'],
  ])('%s → 2001 with id="" cmd=""', (_name, xml) => {
    expect(refusal(utf8(xml))).toMatchObject({ code: ResultCode.SyntaxError, ...unidentified });
  });

  it('version other than 1.0 → 2100 with id="" cmd="" (spec §4 lists it before identification)', () => {
    expect(refusal(irpBytes('<ping id="1"/>', '2.0'))).toMatchObject({
      code: 2100,
      ...unidentified,
    });
  });

  it('missing id → 2003 with id="" and the command name', () => {
    expect(refuse('<ping/>')).toMatchObject({ code: 2003, id: '', cmd: 'ping' });
  });

  it.each(['', 'a b', 'x'.repeat(65), 'é', 'a/b', 'a+b'])(
    'invalid id %j → 2003 with id=""',
    (id) => {
      expect(refuse(`<ping id="${id}"/>`)).toMatchObject({ code: 2003, id: '', cmd: 'ping' });
    },
  );

  it('accepts a 64-character id of every allowed class', () => {
    const id = `Az09._:-${'x'.repeat(56)}`;
    expect(decode(`<ping id="${id}"/>`)).toEqual({ cmd: 'ping', id });
  });

  it('unknown command → 2000, id kept when valid, cmd = element name', () => {
    expect(refuse('<frobnicate id="7"/>')).toMatchObject({
      code: 2000,
      id: '7',
      cmd: 'frobnicate',
    });
    expect(refuse('<frobnicate/>')).toMatchObject({ code: 2000, id: '', cmd: 'frobnicate' });
    expect(refuse('<Ping id="7"/>')).toMatchObject({ code: 2000, cmd: 'Ping' }); // names are case-sensitive
  });

  it('cuts a huge unknown element name in the error', () => {
    const err = refuse(`<${'x'.repeat(100_000)} id="7"/>`);
    expect(err).toMatchObject({ code: 2000, id: '7', cmd: `${'x'.repeat(64)}…` });
    expect(err.message.length).toBeLessThan(200);
  });

  it('errorResponse renders an unknown command with cmd="" and the id', () => {
    const r = errorResponse(refuse('<frobnicate id="7"/>'), 'S-1');
    expect(r).toMatchObject({ id: '7', cmd: '', txn: 'S-1', result: { code: 2000 }, data: {} });
    expect(canonical(encodeResponse(r))).toEqual(
      canonical(
        irp(
          '<response id="7" cmd="" txn="S-1"><result code="2000">Unknown command &lt;frobnicate&gt;</result></response>',
        ),
      ),
    );
  });

  it('errorResponse keeps a known command name', () => {
    const r = errorResponse(refuse('<login id="9"/>'), 'S-2');
    expect(r).toMatchObject({ id: '9', cmd: 'login', result: { code: 2003 } });
  });
});

describe('encodeCommand: session commands', () => {
  it('writes a UPA login as hand-written XML', () => {
    const xml = encodeCommand({
      cmd: 'login',
      id: 'c1',
      method: 'upa',
      user: 'alice',
      password: ' a&b<c>"d\' ]]> \r\n',
    });
    expect(xml.toString('utf8')).toBe(
      '<irp version="1.0"><login id="c1" method="upa"><user>alice</user>' +
        '<password> a&amp;b&lt;c&gt;"d\' ]]&gt; &#13;\n</password></login></irp>',
    );
  });

  it('writes an SCA login and a ping', () => {
    expect(encodeCommand({ cmd: 'login', id: '1', method: 'sca' }).toString()).toBe(
      '<irp version="1.0"><login id="1" method="sca"/></irp>',
    );
    expect(encodeCommand({ cmd: 'ping', id: '2' }).toString()).toBe(
      '<irp version="1.0"><ping id="2"/></irp>',
    );
  });

  it('refuses an invalid id and characters XML 1.0 cannot carry', () => {
    expect(() => encodeCommand({ cmd: 'ping', id: 'a b' })).toThrow(IrpProtocolError);
    expect(() =>
      encodeCommand({ cmd: 'login', id: '1', method: 'upa', user: 'a', password: 'x\u0001y' }),
    ).toThrow(/U\+0001/);
    expect(() =>
      encodeCommand({ cmd: 'login', id: '1', method: 'upa', user: 'a', password: '\ud800' }),
    ).toThrow(/U\+D800/);
    expect(() =>
      encodeCommand({ cmd: 'login', id: '1', method: 'upa', user: 'a', password: '\uffff' }),
    ).toThrow(/U\+FFFF/);
  });
});

export const GREETING: Greeting = {
  server: 'dir.example.com',
  domain: 'example.com',
  serverTime: new Date('2026-11-25T08:00:00Z'),
  versions: ['1.0'],
  authMethods: ['sca', 'upa'],
  clientCertificate: { status: 'valid', user: 'alice@example.com' },
  registration: { open: false, enrollment: true },
  commands: ['hello', 'ping', 'login'],
  limits: {
    maxFrameBytes: 1048576,
    maxDepth: 16,
    maxElements: 10000,
    maxTextBytes: 262144,
    authTimeoutSeconds: 30,
    idleTimeoutSeconds: 600,
    maxSubscriptions: 1000,
    maxBindingsPerUser: 16,
    maxPkcs12PerUser: 20,
    maxCertificateDays: 365,
    allowLocalAddresses: false,
  },
};

// spec §6.6, written by hand.
const GREETING_XML = `
<irp version="1.0"><greeting>
  <server>dir.example.com</server><domain>example.com</domain>
  <serverTime>2026-11-25T08:00:00Z</serverTime>
  <versions><version>1.0</version></versions>
  <authMethods><method>sca</method><method>upa</method></authMethods>
  <clientCertificate status="valid" user="alice@example.com"/>
  <registration open="false" enrollment="true"/>
  <commands><command>hello</command><command>ping</command><command>login</command></commands>
  <limits maxFrameBytes="1048576" maxDepth="16" maxElements="10000" maxTextBytes="262144"
          authTimeoutSeconds="30" idleTimeoutSeconds="600" maxSubscriptions="1000"
          maxBindingsPerUser="16" maxPkcs12PerUser="20" maxCertificateDays="365"
          allowLocalAddresses="false"/>
</greeting></irp>`;

describe('greeting (spec §6.6)', () => {
  it('encodes to the spec example', () => {
    expect(canonical(encodeGreeting(GREETING))).toEqual(canonical(GREETING_XML));
  });

  it('decodes the spec example', () => {
    expect(decodeServerMessage(utf8(GREETING_XML))).toEqual({
      kind: 'greeting',
      greeting: GREETING,
    });
  });

  it('refuses a greeting without limits (2003)', () => {
    expect(() => decodeServerMessage(utf8(GREETING_XML.replace(/<limits[\s\S]*?\/>/, '')))).toThrow(
      expect.objectContaining({ code: 2003 }) as Error,
    );
  });
});

describe('responses (spec §4, §6.4, §6.5)', () => {
  const loginResponse: IrpResponse = {
    id: '1',
    cmd: 'login',
    txn: 'S-000001',
    result: { code: 1000, message: 'Command completed successfully' },
    data: {
      session: { method: 'sca', user: 'alice@example.com', expiresIdleSeconds: 600 },
      user: {
        userId: 'alice',
        address: 'alice@example.com',
        displayName: 'Alice & Co <x>',
        status: 'active',
        upaEnabled: true,
        createdAt: new Date('2026-01-02T03:04:05Z'),
      },
    },
  };
  const LOGIN_XML = compact(`
    <irp version="1.0"><response id="1" cmd="login" txn="S-000001">
      <result code="1000">Command completed successfully</result>
      <session method="sca" user="alice@example.com" expiresIdleSeconds="600"/>
      <user><userId>alice</userId><address>alice@example.com</address>
        <displayName>Alice &amp; Co &lt;x&gt;</displayName><status>active</status>
        <upaEnabled>true</upaEnabled><createdAt>2026-01-02T03:04:05Z</createdAt></user>
    </response></irp>`);

  it('encodes a login response to hand-written XML', () => {
    expect(encodeResponse(loginResponse).toString('utf8')).toBe(LOGIN_XML);
  });

  it('decodes the hand-written login response', () => {
    expect(decodeServerMessage(utf8(LOGIN_XML))).toEqual({
      kind: 'response',
      response: loginResponse,
    });
  });

  it('carries retryAfter and <reason> on the result', () => {
    const xml = irp(
      '<response id="" cmd="" txn="S-9"><result code="2503" retryAfter="30">Rate limit exceeded<reason>too many logins</reason></result></response>',
    );
    const expected: IrpResponse = {
      id: '',
      cmd: '',
      txn: 'S-9',
      result: {
        code: 2503,
        message: 'Rate limit exceeded',
        retryAfter: 30,
        reason: 'too many logins',
      },
      data: {},
    };
    expect(decodeServerMessage(utf8(xml))).toEqual({ kind: 'response', response: expected });
    expect(canonical(encodeResponse(expected))).toEqual(canonical(xml));
  });

  it('puts the greeting inside the hello response (spec §6.5)', () => {
    const r: IrpResponse = {
      id: 'h',
      cmd: 'hello',
      txn: 'S-2',
      result: { code: 1000, message: 'ok' },
      data: { greeting: GREETING },
    };
    const inner = /<greeting>[\s\S]*<\/greeting>/.exec(GREETING_XML)?.[0] ?? '';
    expect(canonical(encodeResponse(r))).toEqual(
      canonical(
        irp(
          `<response id="h" cmd="hello" txn="S-2"><result code="1000">ok</result>${inner}</response>`,
        ),
      ),
    );
    expect(decodeServerMessage(encodeResponse(r))).toEqual({ kind: 'response', response: r });
  });

  it('writes ping/logout responses with no data', () => {
    const r: IrpResponse = {
      id: 'l',
      cmd: 'logout',
      txn: 'S-3',
      result: { code: 1500, message: 'Command completed successfully; ending session' },
      data: {},
    };
    expect(encodeResponse(r).toString()).toBe(
      '<irp version="1.0"><response id="l" cmd="logout" txn="S-3"><result code="1500">Command completed successfully; ending session</result></response></irp>',
    );
  });

  it('refuses an unknown result code from a server (2004) keeping the id', () => {
    const xml = irp(
      '<response id="5" cmd="ping" txn="t"><result code="2999">?</result></response>',
    );
    expect(() => decodeServerMessage(utf8(xml))).toThrow(
      expect.objectContaining({ code: 2004, id: '5', cmd: 'ping' }) as Error,
    );
  });

  it('refuses a response naming an unknown command (2000) keeping the id', () => {
    const xml = irp(
      '<response id="5" cmd="future" txn="t"><result code="1000">ok</result></response>',
    );
    expect(() => decodeServerMessage(utf8(xml))).toThrow(
      expect.objectContaining({ code: 2000, id: '5', cmd: 'future' }) as Error,
    );
  });
});

describe('notify (spec §11)', () => {
  it('encodes and decodes a session notify', () => {
    const xml = irp('<notify event="session" reason="shutdown" retryAfter="60"/>');
    expect(encodeNotify({ event: 'session', reason: 'shutdown', retryAfter: 60 }).toString()).toBe(
      xml,
    );
    expect(decodeServerMessage(utf8(xml))).toEqual({
      kind: 'notify',
      notify: { event: 'session', reason: 'shutdown', retryAfter: 60 },
    });
  });

  it('encodes and decodes watch-request / watch-removed', () => {
    for (const event of ['watch-request', 'watch-removed'] as const) {
      const xml = irp(`<notify event="${event}" user="carol@example.com"/>`);
      expect(encodeNotify({ event, user: 'carol@example.com' }).toString()).toBe(xml);
      expect(decodeServerMessage(utf8(xml))).toEqual({
        kind: 'notify',
        notify: { event, user: 'carol@example.com' },
      });
    }
  });

  it('refuses an unknown event (2004)', () => {
    expect(() => decodeServerMessage(utf8(irp('<notify event="weather"/>')))).toThrow(
      expect.objectContaining({ code: 2004 }) as Error,
    );
  });
});
