import { defineConfig } from 'vitest/config';
import { fastProbeEnv } from './test/helpers/ffprobe-env.js';

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/setup.ts'],
    // Backstops against a hang, never measures of speed (see vitest.config.ts).
    testTimeout: 900_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // The static ffprobe the product falls back to: a tenth of a distro build's start cost.
    env: fastProbeEnv(),
    // Two checks at once: each waits on simulated latency and child processes much of the
    // time; their assertions are invariants (counts, files), never timings.
    maxWorkers: 2,
  },
});
