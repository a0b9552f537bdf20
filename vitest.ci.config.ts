import { defineConfig } from 'vitest/config';
import { MAX_WORKERS, projects } from './vitest.config.js';
import reliability from './vitest.reliability.config.js';
import { LongestFirst } from './test/helpers/sequencer.js';

/**
 * `npm run test:ci`: every file of `npm test` and the reliability suite in one vitest run, so
 * that the long reliability checks run beside the end-to-end files instead of after them,
 * and the known-long files of all projects start first (test/helpers/sequencer.ts).
 */
export default defineConfig({
  test: {
    // The projects share the workers: vitest runs projects side by side only when they ask
    // for as many (see vitest.config.ts for why three on two cores).
    maxWorkers: MAX_WORKERS,
    sequence: { sequencer: LongestFirst },
    projects: [
      ...projects(),
      {
        ...reliability,
        test: { ...reliability.test, name: 'reliability', maxWorkers: MAX_WORKERS },
      },
    ],
  },
});
