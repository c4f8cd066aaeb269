import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const lib = (p: string) =>
  fileURLToPath(new URL(`./libs/scheduled-commands/src/${p}`, import.meta.url));

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [
      // Tests import the library by its package name, as an application would.
      {
        find: /^nestjs-scheduled-commands\/testing\/conformance$/,
        replacement: lib('testing/conformance.ts'),
      },
      { find: /^nestjs-scheduled-commands\/dashboard$/, replacement: lib('dashboard/index.ts') },
      { find: /^nestjs-scheduled-commands\/terminus$/, replacement: lib('terminus/index.ts') },
      { find: /^nestjs-scheduled-commands\/testing$/, replacement: lib('testing/index.ts') },
      { find: /^nestjs-scheduled-commands$/, replacement: lib('index.ts') },
    ],
  },
  test: {
    include: ['libs/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    // Starts one throw-away PostgreSQL server for the run (see scripts/pg.mjs).
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
