import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/fast-check-seed.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests hold real sockets and ports; forks isolate them and leave one core for servers.
    pool: 'forks',
    maxWorkers: 2,
  },
});
