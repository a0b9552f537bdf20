/**
 * The order vitest starts test files in: the longest first, so that the last file to finish
 * is never a long one started late beside idle workers. Vitest's own order needs a cache of
 * earlier runs (a fresh clone has none, and then it goes by file size, which says little of
 * a file that spawns the CLI); the files below are known to be long, with the seconds they
 * took on a quiet 2-core machine (one full run of test:ci), and start before every other file.
 */
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Seconds a known-long file took (quiet machine, 2 cores), by path from the repository root. */
export const KNOWN_SECONDS: Record<string, number> = {
  'test/reliability/soak.test.ts': 173,
  'test/reliability/chains-crash.test.ts': 103,
  'test/e2e/team-unknown.test.ts': 71,
  'test/reliability/money-reconcile.test.ts': 65,
  'test/reliability/crash.test.ts': 52,
  'test/e2e/webhook.test.ts': 51,
  'test/e2e/folder-api.test.ts': 47,
  'test/e2e/shard.test.ts': 45,
  'test/e2e/stitch.test.ts': 44,
  'test/e2e/commands-agree-chain.test.ts': 43,
  'test/e2e/exports.test.ts': 42,
  'test/e2e/commands-agree-shards.test.ts': 41,
  'test/e2e/team.test.ts': 40,
  'test/e2e/team-worker.test.ts': 39,
  'test/e2e/finals.test.ts': 37,
  'test/e2e/job.test.ts': 37,
  'test/e2e/saved-plan-travel.test.ts': 35,
  'test/e2e/continuity.test.ts': 34,
  'test/e2e/commands-agree-variants.test.ts': 34,
  'test/e2e/commands-agree-accounts.test.ts': 34,
  'test/reliability/hostile-servers.test.ts': 33,
  'test/reliability/hostile.test.ts': 33,
};

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Known-long files first, longest first; then every other file in vitest's own order. */
export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const known = (spec: TestSpecification) =>
      KNOWN_SECONDS[path.relative(ROOT, spec.moduleId).split(path.sep).join('/')] ?? 0;
    const rest = await super.sort(files.filter((spec) => known(spec) === 0));
    const long = files.filter((spec) => known(spec) > 0).sort((a, b) => known(b) - known(a));
    return [...long, ...rest];
  }
}
