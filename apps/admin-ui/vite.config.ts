import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: {
      '/healthz': 'http://localhost:8080',
      '/pki': 'http://localhost:8080',
      '/api': 'http://localhost:8080',
    },
  },
});
