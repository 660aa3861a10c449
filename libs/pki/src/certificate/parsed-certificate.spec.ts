import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, ok, openssl, type TempDir } from '../testing/openssl.js';
import { parseCertificate } from './parsed-certificate.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await dir.cleanup();
});

describe('parseCertificate on an openssl-made certificate (independent builder)', () => {
  it('reads serial, names, validity, extensions and SANs as openssl reports them', async () => {
    const cnf = [
      '[req]',
      'distinguished_name=dn',
      '[dn]',
      '[ext]',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=clientAuth,emailProtection',
      'subjectKeyIdentifier=hash',
      'subjectAltName=email:bob@example.org,URI:irp:bob@example.org,DNS:host.example.org,IP:2001:db8::1,IP:192.0.2.1',
      'crlDistributionPoints=URI:http://crl.example.org/ca.crl',
      'authorityInfoAccess=OCSP;URI:http://ocsp.example.org,caIssuers;URI:http://ca.example.org/ca.der',
    ].join('\n');
    await dir.write('c.cnf', cnf);
    ok(
      await openssl([
        'req',
        '-x509',
        '-new',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        dir.file('k.pem'),
        '-out',
        dir.file('c.pem'),
        '-subj',
        '/C=DE/O=Exämple, Org/CN=Bob',
        '-days',
        '10',
        '-set_serial',
        '0x00ff0a',
        '-config',
        dir.file('c.cnf'),
        '-extensions',
        'ext',
      ]),
    );
    const pem = (await dir.read('c.pem')).toString();
    const c = parseCertificate(pem);
    const subject = ok(
      await openssl([
        'x509',
        '-in',
        dir.file('c.pem'),
        '-noout',
        '-subject',
        '-nameopt',
        'RFC2253,-esc_msb',
      ]),
    ).stdout.trim();
    expect(`subject=${c.subject}`).toBe(subject);
    expect(c.serialHex).toBe('ff0a');
    expect(c.isSelfIssued).toBe(true);
    expect(c.version).toBe(3);
    expect(c.basicConstraints).toEqual({ ca: false });
    expect(c.keyUsage).toEqual(['digitalSignature', 'keyEncipherment']);
    expect(c.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4']);
    expect(c.subjectAltNames).toEqual({
      email: ['bob@example.org'],
      uri: ['irp:bob@example.org'],
      dns: ['host.example.org'],
      ip: ['2001:db8::1', '192.0.2.1'],
    });
    expect(c.crlDistributionPointUrls).toEqual(['http://crl.example.org/ca.crl']);
    expect(c.authorityInfoAccess).toEqual({
      ocsp: ['http://ocsp.example.org'],
      caIssuers: ['http://ca.example.org/ca.der'],
    });
    const fp = ok(
      await openssl(['x509', '-in', dir.file('c.pem'), '-noout', '-fingerprint', '-sha256']),
    ).stdout;
    expect(c.sha256).toBe(fp.split('=')[1]?.trim().replace(/:/g, '').toLowerCase());
    const dates = ok(await openssl(['x509', '-in', dir.file('c.pem'), '-noout', '-dates'])).stdout;
    expect(new Date(/notAfter=(.*)/.exec(dates)?.[1] ?? '').getTime()).toBe(c.notAfter.getTime());
    expect(c.verifySignature(c.publicKey)).toBe(true);
    const ski = ok(
      await openssl(['x509', '-in', dir.file('c.pem'), '-noout', '-ext', 'subjectKeyIdentifier']),
    ).stdout;
    expect(Buffer.from(c.subjectKeyIdentifier ?? []).toString('hex')).toBe(
      ski.split('\n')[1]?.trim().replace(/:/g, '').toLowerCase(),
    );
    expect(c.keyIdHex).toBe(Buffer.from(c.subjectKeyIdentifier ?? []).toString('hex'));
  });

  it('refuses garbage and a truncated certificate with syntax', async () => {
    const der = Buffer.from(
      ok(await openssl(['x509', '-in', dir.file('c.pem'), '-outform', 'DER'])).stdout,
      'latin1',
    );
    expect(() => parseCertificate(Buffer.from('hello'))).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
    expect(() => parseCertificate(der.subarray(0, der.length - 10))).toThrow(
      expect.objectContaining({ code: 'syntax' }),
    );
  });
});
