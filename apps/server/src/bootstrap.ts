import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { type IrpConfig } from './config/config.schema.js';
import { IrpTransportStrategy } from './transport/irp-transport.strategy.js';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** The built admin console (apps/admin-ui/dist), served at `/` when present. */
export const ADMIN_UI_DIR = fileURLToPath(new URL('../../admin-ui/dist', import.meta.url));

/**
 * Creates the server: HTTP (admin console, health, later PKI and the operator API) and
 * the IRP transport as a Nest microservice. Call `app.listen()` after it.
 */
export async function createServer(
  config: IrpConfig,
): Promise<{ app: NestExpressApplication; transport: IrpTransportStrategy }> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1),
    bufferLogs: false,
  });
  app.disable('x-powered-by');
  if (existsSync(ADMIN_UI_DIR)) app.useStaticAssets(ADMIN_UI_DIR, { index: 'index.html' });
  const transport = app.get(IrpTransportStrategy);
  // IRP controllers carry their exception filter (common/irp-controller.decorator.ts)
  app.connectMicroservice({ strategy: transport });
  await app.startAllMicroservices();
  if (config.httpHost === '::') await app.listen(config.httpPort);
  else await app.listen(config.httpPort, config.httpHost);
  return { app, transport };
}
