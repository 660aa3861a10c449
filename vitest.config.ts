import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // SWC keeps decorator metadata, which Nest's dependency injection needs (STACK.md).
  plugins: [
    swc.vite({
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
      },
    }),
  ],
  resolve: {
    alias: {
      '@irp/protocol': src('./libs/irp-protocol/src/index.ts'),
      '@irp/client': src('./libs/irp-client/src/index.ts'),
      '@irp/pki': src('./libs/pki/src/index.ts'),
    },
  },
  test: {
    include: [
      '{apps,libs}/*/src/**/*.spec.ts',
      'test/**/*.spec.ts',
      'apps/admin-ui/test/**/*.spec.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
