/**
 * Decoding every non-session command from hand-written fixtures (spec §7–§10),
 * and encoding them back against hand-written XML.
 */
import { describe, expect, it } from 'vitest';
import { pemOrBase64ToDer } from '../binary.js';
import { IrpProtocolError } from '../errors/irp-protocol.error.js';
import { DEFAULT_XML_LIMITS } from '../limits.js';
import { type IrpCommand } from '../messages/commands.js';
import { canonical, irp, irpBytes } from '../testing/test-buffers.js';
import { decodeCommand, encodeCommand } from './envelope.js';

const decode = (inner: string): IrpCommand => decodeCommand(irpBytes(inner), DEFAULT_XML_LIMITS);

function refuse(inner: string): { code: number; id: string; cmd: string } {
  try {
    decode(inner);
  } catch (e) {
    if (e instanceof IrpProtocolError) return { code: e.code, id: e.id, cmd: e.cmd };
    throw e;
  }
  throw new Error(`expected a refusal of ${inner}`);
}

/** Decodes `inner`, checks the typed result, and checks that encoding it gives `inner` back. */
function roundTrip(inner: string, expected: IrpCommand): void {
  expect(decode(inner)).toEqual(expected);
  expect(canonical(encodeCommand(expected))).toEqual(canonical(irp(inner)));
}

const PEM = `-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUQ0hFQ0sAAAAAAAAAAAAAAAAAAAAwCgYIKoZIzj0EAwIw
-----END CERTIFICATE-----`;

describe('identity directory commands (spec §7)', () => {
  it('register with profile fields and repeated attributes', () => {
    roundTrip(
      '<register id="r1"><userId>alice</userId><password> secret pass </password>' +
        '<displayName>Alice A.</displayName><email>alice@example.com</email><givenName>Alice</givenName>' +
        '<surname>A</surname><organization>Org</organization><title>Dr</title><phone>+1 555</phone>' +
        '<attribute name="team">blue</attribute><attribute name="desk">4.2</attribute></register>',
      {
        cmd: 'register',
        id: 'r1',
        userId: 'alice',
        password: ' secret pass ',
        profile: {
          displayName: 'Alice A.',
          email: 'alice@example.com',
          givenName: 'Alice',
          surname: 'A',
          organization: 'Org',
          title: 'Dr',
          phone: '+1 555',
          attributes: [
            { name: 'team', value: 'blue' },
            { name: 'desk', value: '4.2' },
          ],
        },
      },
    );
  });

  it('register refuses a missing userId/password and an attribute without name (2003)', () => {
    expect(refuse('<register id="r"><password>x</password></register>')).toEqual({
      code: 2003,
      id: 'r',
      cmd: 'register',
    });
    expect(refuse('<register id="r"><userId>a</userId></register>')).toMatchObject({ code: 2003 });
    expect(
      refuse(
        '<register id="r"><userId>a</userId><password>x</password><attribute>v</attribute></register>',
      ),
    ).toMatchObject({ code: 2003 });
  });

  it('enroll', () => {
    roundTrip(
      '<enroll id="e"><userId>bob</userId><code>ABCD-1234</code><password>pw</password></enroll>',
      {
        cmd: 'enroll',
        id: 'e',
        userId: 'bob',
        code: 'ABCD-1234',
        password: 'pw',
      },
    );
    expect(
      refuse('<enroll id="e"><userId>bob</userId><password>pw</password></enroll>'),
    ).toMatchObject({ code: 2003 });
  });

  it('info with and without user; empty user means none', () => {
    roundTrip('<info id="i"/>', { cmd: 'info', id: 'i' });
    roundTrip('<info id="i"><user>bob@example.com</user></info>', {
      cmd: 'info',
      id: 'i',
      user: 'bob@example.com',
    });
    expect(decode('<info id="i"><user>  </user></info>')).toEqual({ cmd: 'info', id: 'i' });
  });

  it('update keeps present fields, empty ones as "" and records userId/status', () => {
    expect(
      decode(
        '<update id="u"><displayName/><title> CTO </title><userId>x</userId><status>active</status></update>',
      ),
    ).toEqual({
      cmd: 'update',
      id: 'u',
      profile: { displayName: '', title: 'CTO' },
      namesUserId: true,
      namesStatus: true,
    });
    roundTrip('<update id="u"><email>a@b.c</email><attribute name="k">v</attribute></update>', {
      cmd: 'update',
      id: 'u',
      profile: { email: 'a@b.c', attributes: [{ name: 'k', value: 'v' }] },
      namesUserId: false,
      namesStatus: false,
    });
  });

  it('listUsers with integers; non-integers are 2005, unrepresentable ones 2004', () => {
    roundTrip(
      '<listUsers id="l"><filter>ali</filter><offset>0</offset><limit>200</limit></listUsers>',
      {
        cmd: 'listUsers',
        id: 'l',
        filter: 'ali',
        offset: 0,
        limit: 200,
      },
    );
    // Ranges (limit 1–200) are the service's: the codec passes 500 and -1 on.
    expect(
      decode('<listUsers id="l"><limit>500</limit><offset>-1</offset></listUsers>'),
    ).toMatchObject({
      limit: 500,
      offset: -1,
    });
    expect(refuse('<listUsers id="l"><limit>ten</limit></listUsers>')).toMatchObject({
      code: 2005,
    });
    expect(refuse('<listUsers id="l"><limit>1.5</limit></listUsers>')).toMatchObject({
      code: 2005,
    });
    expect(
      refuse('<listUsers id="l"><limit>99999999999999999999</limit></listUsers>'),
    ).toMatchObject({
      code: 2004,
    });
  });

  it('changePassword keeps both passwords as sent', () => {
    roundTrip(
      '<changePassword id="c"><oldPassword> o </oldPassword><newPassword>n\t</newPassword></changePassword>',
      {
        cmd: 'changePassword',
        id: 'c',
        oldPassword: ' o ',
        newPassword: 'n\t',
      },
    );
  });

  it('setAuthPolicy upa="true|false"; anything else is 2004, missing 2003', () => {
    roundTrip('<setAuthPolicy id="s" upa="false"/>', { cmd: 'setAuthPolicy', id: 's', upa: false });
    expect(decode('<setAuthPolicy id="s" upa="true"/>')).toMatchObject({ upa: true });
    expect(refuse('<setAuthPolicy id="s" upa="yes"/>')).toEqual({
      code: 2004,
      id: 's',
      cmd: 'setAuthPolicy',
    });
    expect(refuse('<setAuthPolicy id="s"/>')).toMatchObject({ code: 2003 });
  });
});

describe('address registry commands (spec §8)', () => {
  const ATTESTATION_TEXT = Buffer.from('IRP-BINDING-1\nuser:alice@example.com');
  const SIGNATURE = Buffer.from([0x30, 0x44, 0x02, 0x20, 0xff]);

  it('registerAddress with every parameter (spec §8 example)', () => {
    roundTrip(
      '<registerAddress id="5"><device>laptop</device>' +
        '<address family="ipv6" port="4605" transport="tcp">2001:db8::7</address>' +
        '<address family="ipv4">192.0.2.1</address>' +
        '<expires>3600</expires><presence status="available"> in a meeting </presence>' +
        '<service>chat</service>' +
        `<attestation cert="${'ab'.repeat(32)}" alg="ecdsa-sha256" text="${ATTESTATION_TEXT.toString('base64')}">${SIGNATURE.toString('base64')}</attestation>` +
        '</registerAddress>',
      {
        cmd: 'registerAddress',
        id: '5',
        device: 'laptop',
        addresses: [
          { family: 'ipv6', address: '2001:db8::7', port: 4605, transport: 'tcp' },
          { family: 'ipv4', address: '192.0.2.1' },
        ],
        expires: 3600,
        presence: { status: 'available', note: ' in a meeting ' },
        service: 'chat',
        attestation: {
          cert: 'ab'.repeat(32),
          alg: 'ecdsa-sha256',
          text: ATTESTATION_TEXT,
          signature: SIGNATURE,
        },
      },
    );
  });

  it('registerAddress: no address is 2003 unless expires is 0', () => {
    expect(refuse('<registerAddress id="5"><device>d</device></registerAddress>')).toMatchObject({
      code: 2003,
    });
    expect(
      decode('<registerAddress id="5"><device>d</device><expires>0</expires></registerAddress>'),
    ).toEqual({
      cmd: 'registerAddress',
      id: '5',
      device: 'd',
      addresses: [],
      expires: 0,
    });
  });

  it.each([
    ['family outside its set', '<address family="ipx">1</address>', 2004],
    ['missing family', '<address>1.2.3.4</address>', 2003],
    [
      'transport outside its set',
      '<address family="ipv4" transport="sctp">1.2.3.4</address>',
      2004,
    ],
    ['non-integer port', '<address family="ipv4" port="http">1.2.3.4</address>', 2005],
    ['empty address', '<address family="ipv4"> </address>', 2003],
    [
      'presence status outside its set',
      '<address family="ipv4">1.2.3.4</address><presence status="asleep"/>',
      2004,
    ],
    [
      'presence without status',
      '<address family="ipv4">1.2.3.4</address><presence>x</presence>',
      2003,
    ],
    [
      'attestation alg outside its set',
      '<address family="ipv4">1.2.3.4</address><attestation cert="c" alg="md5" text="AA==">AA==</attestation>',
      2004,
    ],
    [
      'attestation with bad base64',
      '<address family="ipv4">1.2.3.4</address><attestation cert="c" alg="ed25519" text="!!">AA==</attestation>',
      2005,
    ],
    [
      'attestation without signature',
      '<address family="ipv4">1.2.3.4</address><attestation cert="c" alg="ed25519" text="AA=="/>',
      2003,
    ],
  ])('registerAddress: %s → %i', (_name, params, code) => {
    expect(refuse(`<registerAddress id="5">${params}</registerAddress>`)).toEqual({
      code,
      id: '5',
      cmd: 'registerAddress',
    });
  });

  it('registerAddress: address validity is not the codec’s job', () => {
    expect(
      decode('<registerAddress id="5"><address family="ipv4">::1</address></registerAddress>'),
    ).toMatchObject({
      addresses: [{ family: 'ipv4', address: '::1' }],
    });
  });

  it('unregisterAddress with and without device', () => {
    roundTrip('<unregisterAddress id="u"><device>phone</device></unregisterAddress>', {
      cmd: 'unregisterAddress',
      id: 'u',
      device: 'phone',
    });
    roundTrip('<unregisterAddress id="u"/>', { cmd: 'unregisterAddress', id: 'u' });
  });

  it('lookupAddress (spec §4 example)', () => {
    roundTrip('<lookupAddress id="7"><user>bob@example.com</user></lookupAddress>', {
      cmd: 'lookupAddress',
      id: '7',
      user: 'bob@example.com',
    });
    expect(refuse('<lookupAddress id="7"/>')).toEqual({
      code: 2003,
      id: '7',
      cmd: 'lookupAddress',
    });
  });

  it('subscribe needs at least one user; unsubscribe with none means all', () => {
    roundTrip('<subscribe id="s"><user>bob</user><user>carol@example.com</user></subscribe>', {
      cmd: 'subscribe',
      id: 's',
      users: ['bob', 'carol@example.com'],
    });
    expect(refuse('<subscribe id="s"/>')).toMatchObject({ code: 2003 });
    expect(refuse('<subscribe id="s"><user/></subscribe>')).toMatchObject({ code: 2003 });
    roundTrip('<unsubscribe id="u"/>', { cmd: 'unsubscribe', id: 'u', users: [] });
    roundTrip('<unsubscribe id="u"><user>bob</user></unsubscribe>', {
      cmd: 'unsubscribe',
      id: 'u',
      users: ['bob'],
    });
  });

  it('setAddressPolicy visibility', () => {
    roundTrip('<setAddressPolicy id="p" visibility="watchers"/>', {
      cmd: 'setAddressPolicy',
      id: 'p',
      visibility: 'watchers',
    });
    expect(refuse('<setAddressPolicy id="p" visibility="friends"/>')).toMatchObject({ code: 2004 });
    expect(refuse('<setAddressPolicy id="p"/>')).toMatchObject({ code: 2003 });
  });

  it('listWatchers, approveWatcher, removeWatcher', () => {
    roundTrip('<listWatchers id="w"/>', { cmd: 'listWatchers', id: 'w' });
    roundTrip('<approveWatcher id="a"><user>carol@example.com</user></approveWatcher>', {
      cmd: 'approveWatcher',
      id: 'a',
      user: 'carol@example.com',
    });
    roundTrip('<removeWatcher id="r"><user>carol</user></removeWatcher>', {
      cmd: 'removeWatcher',
      id: 'r',
      user: 'carol',
    });
  });
});

describe('PKI commands (spec §9)', () => {
  it('getCACertificates', () => {
    roundTrip('<getCACertificates id="g"/>', { cmd: 'getCACertificates', id: 'g' });
  });

  it('requestCertificate with a CSR (spec §9 example)', () => {
    const csr = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----';
    roundTrip(
      `<requestCertificate id="9" profile="user"><csr>${csr}</csr><validityDays>365</validityDays><renews>${'0a'.repeat(16)}</renews></requestCertificate>`,
      {
        cmd: 'requestCertificate',
        id: '9',
        profile: 'user',
        key: { kind: 'csr', csr },
        validityDays: 365,
        renews: '0a'.repeat(16),
      },
    );
  });

  it('requestCertificate with keygen keeps the passphrase exactly', () => {
    roundTrip(
      '<requestCertificate id="9" profile="device"><keygen algorithm="P-384" passphrase=" p&amp;q "/></requestCertificate>',
      {
        cmd: 'requestCertificate',
        id: '9',
        profile: 'device',
        key: { kind: 'keygen', algorithm: 'P-384', passphrase: ' p&q ' },
      },
    );
  });

  it.each([
    ['no profile', '<requestCertificate id="9"><csr>x</csr></requestCertificate>', 2003],
    [
      'unknown profile',
      '<requestCertificate id="9" profile="server"><csr>x</csr></requestCertificate>',
      2004,
    ],
    ['neither csr nor keygen', '<requestCertificate id="9" profile="user"/>', 2003],
    [
      'both csr and keygen',
      '<requestCertificate id="9" profile="user"><csr>x</csr><keygen algorithm="P-256" passphrase="p"/></requestCertificate>',
      2001,
    ],
    [
      'unknown algorithm',
      '<requestCertificate id="9" profile="user"><keygen algorithm="P-192" passphrase="p"/></requestCertificate>',
      2004,
    ],
    [
      'keygen without passphrase',
      '<requestCertificate id="9" profile="user"><keygen algorithm="P-256"/></requestCertificate>',
      2003,
    ],
    [
      'bad validityDays',
      '<requestCertificate id="9" profile="user"><csr>x</csr><validityDays>1y</validityDays></requestCertificate>',
      2005,
    ],
  ])('requestCertificate: %s → %i', (_n, inner, code) => {
    expect(refuse(inner)).toEqual({ code, id: '9', cmd: 'requestCertificate' });
  });

  it('listCertificates with and without user', () => {
    roundTrip('<listCertificates id="l"/>', { cmd: 'listCertificates', id: 'l' });
    roundTrip('<listCertificates id="l"><user>bob</user></listCertificates>', {
      cmd: 'listCertificates',
      id: 'l',
      user: 'bob',
    });
  });

  it('getCertificate by serial, sha256, user [+ purpose]; exactly one selector', () => {
    roundTrip('<getCertificate id="g"><serial>01ab</serial></getCertificate>', {
      cmd: 'getCertificate',
      id: 'g',
      query: { by: 'serial', serial: '01ab' },
    });
    roundTrip(`<getCertificate id="g"><sha256>${'f'.repeat(64)}</sha256></getCertificate>`, {
      cmd: 'getCertificate',
      id: 'g',
      query: { by: 'sha256', sha256: 'f'.repeat(64) },
    });
    roundTrip('<getCertificate id="g"><user>bob</user><purpose>email</purpose></getCertificate>', {
      cmd: 'getCertificate',
      id: 'g',
      query: { by: 'user', user: 'bob', purpose: 'email' },
    });
    expect(refuse('<getCertificate id="g"/>')).toMatchObject({ code: 2003 });
    expect(
      refuse('<getCertificate id="g"><serial>1</serial><user>b</user></getCertificate>'),
    ).toMatchObject({ code: 2001 });
    expect(
      refuse('<getCertificate id="g"><user>b</user><purpose>tls</purpose></getCertificate>'),
    ).toMatchObject({ code: 2004 });
  });

  it('uploadCertificate with a chain of <certificate> elements or a PEM bundle', () => {
    roundTrip(
      `<uploadCertificate id="u"><certificate>${PEM}</certificate><chain><certificate>${PEM}</certificate></chain></uploadCertificate>`,
      {
        cmd: 'uploadCertificate',
        id: 'u',
        certificate: PEM,
        chain: [PEM],
      },
    );
    expect(
      decode(
        `<uploadCertificate id="u"><certificate>${PEM}</certificate><chain>\n${PEM}\n${PEM}\n</chain></uploadCertificate>`,
      ),
    ).toMatchObject({
      chain: [PEM, PEM],
    });
    roundTrip(`<uploadCertificate id="u"><certificate>${PEM}</certificate></uploadCertificate>`, {
      cmd: 'uploadCertificate',
      id: 'u',
      certificate: PEM,
      chain: [],
    });
  });

  it('revokeCertificate with an RFC 5280 reason; others are 2004', () => {
    roundTrip(
      '<revokeCertificate id="r"><serial>0a0b</serial><reason>keyCompromise</reason></revokeCertificate>',
      {
        cmd: 'revokeCertificate',
        id: 'r',
        serial: '0a0b',
        reason: 'keyCompromise',
      },
    );
    roundTrip('<revokeCertificate id="r"><serial>0a0b</serial></revokeCertificate>', {
      cmd: 'revokeCertificate',
      id: 'r',
      serial: '0a0b',
    });
    expect(
      refuse(
        '<revokeCertificate id="r"><serial>1</serial><reason>removeFromCRL</reason></revokeCertificate>',
      ),
    ).toMatchObject({
      code: 2004,
    });
    expect(
      refuse('<revokeCertificate id="r"><reason>superseded</reason></revokeCertificate>'),
    ).toMatchObject({ code: 2003 });
  });

  it('certificateStatus by serial or sha256', () => {
    roundTrip('<certificateStatus id="c"><serial>0a</serial></certificateStatus>', {
      cmd: 'certificateStatus',
      id: 'c',
      query: { by: 'serial', serial: '0a' },
    });
    roundTrip('<certificateStatus id="c"><sha256>ff</sha256></certificateStatus>', {
      cmd: 'certificateStatus',
      id: 'c',
      query: { by: 'sha256', sha256: 'ff' },
    });
    expect(refuse('<certificateStatus id="c"><user>x</user></certificateStatus>')).toMatchObject({
      code: 2003,
    });
  });
});

describe('PKCS#12 commands (spec §10)', () => {
  it('uploadPkcs12 decodes base64 with white space into octets', () => {
    const data = Buffer.from([0x30, 0x82, 0x01, 0x00, 0xfe, 0xff]);
    expect(
      decode(
        `<uploadPkcs12 id="p"><name>laptop key</name><data>\n  MIIB\n  AP7/\n</data></uploadPkcs12>`,
      ),
    ).toEqual({
      cmd: 'uploadPkcs12',
      id: 'p',
      name: 'laptop key',
      data,
    });
    roundTrip('<uploadPkcs12 id="p"><name>k</name><data>MIIBAP7/</data></uploadPkcs12>', {
      cmd: 'uploadPkcs12',
      id: 'p',
      name: 'k',
      data,
    });
  });

  it.each(['MIIBAP7', 'MII*AP7/', 'MIIBAP7_', 'M===', '===='])(
    'uploadPkcs12 refuses bad base64 %j → 2005',
    (b64) => {
      expect(
        refuse(`<uploadPkcs12 id="p"><name>k</name><data>${b64}</data></uploadPkcs12>`),
      ).toEqual({
        code: 2005,
        id: 'p',
        cmd: 'uploadPkcs12',
      });
    },
  );

  it('listPkcs12, downloadPkcs12, deletePkcs12 (<id> → pkcs12Id)', () => {
    roundTrip('<listPkcs12 id="l"/>', { cmd: 'listPkcs12', id: 'l' });
    roundTrip('<downloadPkcs12 id="d"><id>42</id></downloadPkcs12>', {
      cmd: 'downloadPkcs12',
      id: 'd',
      pkcs12Id: '42',
    });
    roundTrip('<deletePkcs12 id="x"><id>42</id></deletePkcs12>', {
      cmd: 'deletePkcs12',
      id: 'x',
      pkcs12Id: '42',
    });
    expect(refuse('<deletePkcs12 id="x"/>')).toEqual({ code: 2003, id: 'x', cmd: 'deletePkcs12' });
  });
});

describe('pemOrBase64ToDer (spec §3)', () => {
  const der = Buffer.from('3082010a0282010100', 'hex');
  const b64 = der.toString('base64');

  it('reads PEM with the expected label, ignoring surrounding text', () => {
    const pem = `subject=CN=x\n-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
    expect(pemOrBase64ToDer(pem, 'CERTIFICATE')).toEqual(der);
  });

  it('accepts one of several labels', () => {
    const pem = `-----BEGIN NEW CERTIFICATE REQUEST-----\n${b64}\n-----END NEW CERTIFICATE REQUEST-----`;
    expect(pemOrBase64ToDer(pem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'])).toEqual(der);
  });

  it('reads bare base64 DER with line breaks', () => {
    expect(pemOrBase64ToDer(`${b64.slice(0, 4)}\n${b64.slice(4)}`, 'CERTIFICATE')).toEqual(der);
  });

  it.each([
    ['another label', `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----`],
    ['bad base64 body', '-----BEGIN CERTIFICATE-----\n*bad*\n-----END CERTIFICATE-----'],
    ['empty', ''],
    ['not base64', 'hello world!'],
  ])('refuses %s with 2005', (_n, text) => {
    expect(() => pemOrBase64ToDer(text, 'CERTIFICATE')).toThrow(
      expect.objectContaining({ code: 2005 }) as Error,
    );
  });
});
