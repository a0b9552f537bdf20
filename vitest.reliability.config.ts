import { defineConfig } from 'vitest/config';
import { fastToolEnv } from './test/helpers/tool-env.js';

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/setup.ts'],
    // Backstops against a hang, never measures of speed (see vitest.config.ts); the soak took
    // 606 s beside four CPU-bound processes.
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // The static ffprobe and ffmpeg the product falls back to (test/helpers/tool-env.ts): none
    // of these checks is about the picture, and a distro build's start costs ten times more.
    env: fastToolEnv(),
    // Two checks at once: each waits on simulated latency and child processes much of the
    // time; their assertions are invariants (counts, files), never timings.
    maxWorkers: 2,
  },
});
