import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.schema.js';

describe('loadConfig', () => {
  it('has working defaults for a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      irpPort: 4604,
      httpPort: 8080,
      irpHost: '::',
      dataDir: './data',
      databaseUrl: undefined,
      openRegistration: false,
      allowLocalAddresses: false,
      certApproval: 'auto',
      maxCertDays: 365,
      authTimeoutSeconds: 30,
      idleTimeoutSeconds: 600,
      maxFrameBytes: 1_048_576,
      maxDepth: 16,
      maxElements: 10_000,
      maxTextBytes: 262_144,
      maxSubscriptions: 1000,
      maxBindingsPerUser: 16,
      maxPkcs12PerUser: 20,
      publicHttpUrl: 'http://localhost:8080',
    });
  });

  it('names every bad variable at once, and never echoes the master key', () => {
    let error: unknown;
    try {
      loadConfig({
        IRP_PORT: '70000',
        IRP_OPEN_REGISTRATION: 'maybe',
        IRP_CERT_APPROVAL: 'sometimes',
        IRP_MASTER_KEY: 'secret-but-short',
        IRP_TLS_CERT: '/x.pem',
        DATABASE_URL: 'mysql://x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of [
      'IRP_PORT',
      'IRP_OPEN_REGISTRATION',
      'IRP_CERT_APPROVAL',
      'IRP_MASTER_KEY',
      'IRP_TLS_CERT',
      'DATABASE_URL',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('secret-but-short');
    expect((error as ConfigError).problems).toHaveLength(6);
  });

  it('accepts a master key as hex or base64 of exactly 32 bytes', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ IRP_MASTER_KEY: hex }).masterKey?.toString('hex')).toBe(hex);
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ IRP_MASTER_KEY: b64 }).masterKey?.equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it('parses booleans and enumerations case-insensitively', () => {
    const c = loadConfig({
      IRP_OPEN_REGISTRATION: 'TRUE',
      IRP_CERT_APPROVAL: 'Manual',
      IRP_DOMAIN: 'Example.COM',
    });
    expect(c.openRegistration).toBe(true);
    expect(c.certApproval).toBe('manual');
    expect(c.domain).toBe('example.com');
  });
});
