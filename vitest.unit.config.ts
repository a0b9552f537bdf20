import { defineConfig } from 'vitest/config';
import { MAX_WORKERS, projects } from './vitest.config.js';

/**
 * Files of the unit folders that are integration tests: they make real clips (simulated
 * renders, ffmpeg on fixtures), drive a browser or redis-server, spawn the built bin, or run
 * the linters over fixture trees. `npm
 * test` runs them with everything else; `npm run test:unit` leaves them out.
 */
export const INTEGRATION = [
  '**/*.integration.test.ts',
  'test/cli/state-location.test.ts',
  'test/cli/status.test.ts',
  'test/lint/layers.test.ts',
  'test/media/features-cache.test.ts',
  'test/media/probe-cli.test.ts',
  'test/media/probe-hostile.test.ts',
  'test/media/probe.test.ts',
  'test/media/thumbnail.test.ts',
  'test/pipeline/run-manifest.test.ts',
  'test/pipeline/status.test.ts',
  'test/render/render.test.ts',
  'test/report/browser.test.ts',
  'test/report/write.test.ts',
  'test/sim/faults.test.ts',
  'test/sim/kept.test.ts',
  'test/sim/reference-clients.test.ts',
  'test/sim/references.test.ts',
  'test/sim/state.test.ts',
  'test/sim/video.test.ts',
  'test/team/lazy-load.test.ts',
];

/** The unit tier: in process, no browser, redis-server or spawned CLI, no waiting on encodes. */
export default defineConfig({
  test: { maxWorkers: MAX_WORKERS, projects: projects(['test/e2e/**', ...INTEGRATION]) },
});
