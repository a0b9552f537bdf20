import { defineConfig } from 'vitest/config';
import { fastProbeEnv } from './test/helpers/ffprobe-env.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/reliability/**', 'node_modules/**'],
    // Backstops against a hang, never measures of speed: every test waits on events (a line,
    // a journal entry, the simulator's ledger), so a loaded machine only makes it slower.
    // Above the child CLI's deadline (test/helpers/cli.ts), so a hung child is shown first.
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // The static ffprobe the product falls back to: a tenth of a distro build's start cost.
    env: fastProbeEnv(),
    // Three files at once on two cores: the e2e files wait on simulated task latency and
    // child processes, so a third keeps the cores busy (92 % of two cores instead of 83 %).
    maxWorkers: 3,
    // A worker keeps its modules between files: the unit folders run in half the CPU time.
    // Tests must not rely on a fresh module state (none does: the suite passes either way).
    isolate: false,
    // Type tests (`*.test-d.ts`) are checked by tsc as part of `vitest run`.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
