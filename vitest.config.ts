import { defineConfig } from 'vitest/config';

// The AWS SDK's seven-line Node-version notice, once per test process and child, would bury the
// results; `aybiza serve` reports the same fact as one log line (src/cli/serve.ts). The SDK reads
// this variable (@aws-sdk/core, emitWarningIfUnsupportedVersion); test workers and their children inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
