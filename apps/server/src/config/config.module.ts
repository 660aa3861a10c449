import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type IrpConfig, loadConfig } from './config.schema.js';

/** Injection token of the validated {@link IrpConfig}. */
export const IRP_CONFIG = Symbol('IRP_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** Provides `config` (tests) or the configuration read from `process.env`. */
  static forRoot(config: IrpConfig = loadConfig()): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: IRP_CONFIG, useValue: config }],
      exports: [IRP_CONFIG],
    };
  }
}
