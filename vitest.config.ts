import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { fastProbeEnv, fastToolEnv, PICTURE_FILES } from './test/helpers/tool-env.js';

/** How many test files run at once: `SHOTLIST_TEST_WORKERS` when set, else four. */
function testWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 4;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`SHOTLIST_TEST_WORKERS is "${value}": set it to a whole number of 1 or more`);
  }
  return count;
}

/** What every project of `npm test` shares. */
const shared = {
  // Backstops against a hang, never measures of speed: every test waits on events (a line,
  // a journal entry, the simulator's ledger), so a loaded machine only makes it slower.
  // Above the child CLI's deadline (test/helpers/cli.ts), so a hung child is shown first.
  testTimeout: 600_000,
  hookTimeout: 300_000,
  pool: 'forks',
  // A worker keeps its modules between files: the unit folders run in half the CPU time.
  // Tests must not rely on a fresh module state (none does: the suite passes either way).
  isolate: false,
  // Four files at once on two cores: the e2e files wait on simulated task latency and child
  // processes, so more files than cores keep the cores busy. Measured on a quiet 2-core
  // machine, the whole of test:ci with a cold clip cache: 3 files 507 s (79 % of two cores),
  // 4 files 398 s (92 %), 5 files 390 s (96 %, more memory and more contention under load).
  // SHOTLIST_TEST_WORKERS sets another count (a machine with more cores). Each project asks
  // for as many, so that vitest runs the projects side by side.
  maxWorkers: testWorkers(process.env.SHOTLIST_TEST_WORKERS),
} as const;

export const MAX_WORKERS = shared.maxWorkers;

const EXCLUDE = ['test/reliability/**', 'node_modules/**'];

/**
 * The projects of `npm test`, given `exclude` on top of the reliability folder (the unit
 * tier leaves out more). Most files run on the static ffprobe and ffmpeg the product falls
 * back to (test/helpers/tool-env.ts: a distro build spends 0.2 CPU s loading its libraries on
 * each start); the files about the picture run on the machine's own ffmpeg.
 */
export function projects(exclude: string[] = []): TestProjectInlineConfiguration[] {
  return [
    {
      test: {
        ...shared,
        name: 'main',
        include: ['test/**/*.test.ts'],
        exclude: [...EXCLUDE, ...PICTURE_FILES, ...exclude],
        env: fastToolEnv(),
        // Type tests (`*.test-d.ts`) are checked by tsc as part of `vitest run`.
        typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
      },
    },
    {
      test: {
        ...shared,
        name: 'picture',
        include: PICTURE_FILES,
        exclude: [...EXCLUDE, ...exclude],
        env: fastProbeEnv(),
      },
    },
  ];
}

export default defineConfig({
  test: { maxWorkers: MAX_WORKERS, projects: projects() },
});
