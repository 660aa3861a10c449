import { Logger } from '@nestjs/common';
import { createServer } from './bootstrap.js';
import { ConfigError, loadConfig, type IrpConfig } from './config/config.schema.js';

/** Entry point of `npm start`: validated config, then HTTP + IRP; SIGTERM/SIGINT exit 0. */
async function main(): Promise<void> {
  let config: IrpConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const log = new Logger('Main');
  const { app } = await createServer(config);
  log.log(`HTTP (admin console, health) on ${await app.getUrl()}`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.log(`${signal}: closing sessions and shutting down`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error(`Shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
