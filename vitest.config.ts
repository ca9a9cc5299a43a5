import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A temporary MODELAB_HOME for every test run: tests never touch the real history. The app, server and
    // end-to-end tests use the electron-vite build in out/: built first when missing or stale.
    globalSetup: ['test/setup/modelab-home.ts', 'test/setup/build-app.ts'],
  },
});
