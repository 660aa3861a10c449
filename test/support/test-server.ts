import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { IrpClient, type IrpConnectOptions } from '@irp/client';
import { createServer } from '../../apps/server/src/bootstrap.js';
import { type IrpConfig, loadConfig } from '../../apps/server/src/config/config.schema.js';
import { type IrpTransportStrategy } from '../../apps/server/src/transport/irp-transport.strategy.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** A real server (Nest app, TLS listener, database) on free ports, for one test file. */
export interface TestServer {
  app: NestExpressApplication;
  transport: IrpTransportStrategy;
  config: IrpConfig;
  irpPort: number;
  httpPort: number;
  /** PEM the client trusts for the server's certificate: the domain CA root. */
  serverCa: string;
  /** The data directory (CA files, master key, TLS files). */
  dataDir: string;
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:41234`. */
  httpUrl: string;
  /** Opens an authenticated-TLS IRP client to this server. */
  connect(options?: Partial<IrpConnectOptions>): Promise<IrpClient>;
  close(): Promise<void>;
}

/**
 * Starts the server through Nest exactly as `main.ts` does, with `env` as its
 * environment (ports 0 = free ports). Uses a fresh PostgreSQL database when
 * TEST_DATABASE_URL is set, else the embedded database in a temp directory.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  shared?: { database?: TestDatabase; dataDir?: string },
): Promise<TestServer> {
  const database = shared?.database ?? (await createTestDatabase());
  const dataDir = shared?.dataDir ?? (await mkdtemp(join(tmpdir(), 'irp-test-')));
  const config = loadConfig({
    IRP_HOST: '127.0.0.1',
    IRP_PORT: '0',
    HTTP_PORT: '0',
    IRP_DATA_DIR: dataDir,
    IRP_DOMAIN: 'example.com',
    IRP_SERVER_NAME: 'localhost',
    IRP_LOG_LEVEL: 'warn',
    IRP_SHUTDOWN_GRACE_SECONDS: '2',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const { app, transport } = await createServer(config);
  const irpPort = transport.address()?.port ?? 0;
  const httpAddress = app.getHttpServer().address();
  const httpPort = typeof httpAddress === 'object' && httpAddress ? httpAddress.port : 0;
  // the server's certificate is issued by the domain CA: clients trust its root, which
  // the server writes to <dataDir>/ca/root.pem (also served at GET /pki/ca.pem)
  const serverCa = await readFile(join(dataDir, 'ca', 'root.pem'), 'utf8').catch(() => '');
  const clients = new Set<IrpClient>();
  return {
    app,
    transport,
    config,
    irpPort,
    httpPort,
    serverCa,
    dataDir,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    async connect(options = {}) {
      const client = await IrpClient.connect({
        host: '127.0.0.1',
        port: irpPort,
        ca: serverCa,
        servername: 'localhost',
        ...options,
      });
      clients.add(client);
      return client;
    },
    async close() {
      await Promise.all([...clients].map((c) => c.close()));
      await app.close();
      if (!shared?.database) await database.drop();
      if (!shared?.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
