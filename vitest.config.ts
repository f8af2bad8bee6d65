import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each start an app on port 0 against the shared influxd;
    // two workers match the two cores these machines have.
    maxWorkers: 2,
  },
});
