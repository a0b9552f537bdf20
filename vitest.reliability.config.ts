import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two checks at once: each waits on simulated latency and child processes much of the
    // time; their assertions are invariants (counts, files), never timings.
    maxWorkers: 2,
  },
});
