/**
 * `npm run test:ci` starts the known-long files first, longest first, in one vitest run of
 * both the main and the reliability files; every file it names exists.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import ci from '../../vitest.ci.config.js';
import pkg from '../../package.json' with { type: 'json' };
import { KNOWN_SECONDS, LongestFirst } from './sequencer.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A spec as the sequencer sees it: a file of a project, vitest's cache empty (a fresh clone). */
function spec(file: string, project = 'main'): TestSpecification {
  return {
    moduleId: path.join(ROOT, file),
    project: { name: project, config: { sequence: { groupOrder: 0 }, isolate: true } },
  } as unknown as TestSpecification;
}

it('names only files that exist', () => {
  expect(Object.keys(KNOWN_SECONDS).filter((f) => !existsSync(path.join(ROOT, f)))).toEqual([]);
});

it('starts the known-long files first, longest first, whatever their project', async () => {
  const ctx = {
    config: { root: ROOT },
    cache: { getFileTestResults: () => undefined, getFileStats: () => undefined },
  } as unknown as Vitest;
  const files = [
    spec('test/e2e/run.test.ts'),
    spec('test/e2e/continuity.test.ts'),
    spec('test/reliability/soak.test.ts', 'reliability'),
    spec('test/plan/plan.test.ts'),
    spec('test/e2e/webhook.test.ts'),
    spec('test/reliability/chains-crash.test.ts', 'reliability'),
  ];
  const sorted = (await new LongestFirst(ctx).sort(files)).map((s) =>
    path.relative(ROOT, s.moduleId),
  );
  expect(sorted.slice(0, 4)).toEqual([
    'test/reliability/soak.test.ts',
    'test/reliability/chains-crash.test.ts',
    'test/e2e/webhook.test.ts',
    'test/e2e/continuity.test.ts',
  ]);
  expect(sorted.slice(4).sort()).toEqual(['test/e2e/run.test.ts', 'test/plan/plan.test.ts']);
});

it('test:ci runs the main, picture and reliability files in one vitest run, sharing its workers', () => {
  expect(pkg.scripts['test:ci']).toContain('vitest run --config vitest.ci.config.ts');
  const projects = (ci.test?.projects ?? []) as { test: { name: string; maxWorkers: number } }[];
  expect(projects.map((p) => p.test.name)).toEqual(['main', 'picture', 'reliability']);
  expect(new Set(projects.map((p) => p.test.maxWorkers))).toEqual(new Set([ci.test?.maxWorkers]));
  expect(ci.test?.sequence?.sequencer).toBe(LongestFirst);
});
