/**
 * Old folders keep working: output folders an earlier release rendered (test/fixtures/old-folders,
 * see its README) are seen as done by every command of this build (built bin): status and plan
 * find every shot done, run sends and re-renders nothing, stitch uses the picked takes and cost
 * gives the totals recorded.
 */
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, readReport } from './run-helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/old-folders');
/** The port of the simulator the real-base fixtures were rendered against: their journals' base. */
const SIM_PORT = 39417;

interface Expected {
  flags: string[];
  out: string;
  clips: Record<string, string>;
  cost: Record<'billed' | 'failed' | 'at_risk', { seconds: number }> & { tasks: number };
  status: { id: string; take: number; state: string; picked: boolean }[];
  picked: { id: string; take: number; sha256: string }[];
}

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-old-folders-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every clip of every output folder of the copy, with its sha256 (as the fixture recorded). */
function clipsOf(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const folder of readdirSync(path.join(dir, 'renders'))) {
    const clipDir = path.join(dir, 'renders', folder, 'clips');
    let names: string[] = [];
    try {
      names = readdirSync(clipDir).filter((n) => n.endsWith('.mp4'));
    } catch {
      continue;
    }
    for (const name of names.sort())
      found[`renders/${folder}/clips/${name}`] = sha(path.join(clipDir, name));
  }
  return found;
}

/** The journal keys with a completed task: what a run finds done. */
function completedKeys(journal: string): Set<string> {
  const keys = readFileSync(journal, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"completed"'))
    .map((l) => (JSON.parse(l) as { key: string }).key);
  return new Set(keys);
}

const intents = (journal: string) =>
  readFileSync(journal, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"intent"')).length;

const KINDS = ['real-uploads', 'simulated', 'chains', 'takes', 'shards'];

describe('a folder rendered by an earlier release is done for every command (built bin)', () => {
  it.each(KINDS)(
    '%s: status and plan find every shot done, run sends and re-renders nothing, stitch uses the picks, cost the same totals',
    async (kind) => {
      const dir = tmp.dir;
      cpSync(path.join(FIXTURES, kind), dir, { recursive: true });
      const expected = JSON.parse(
        readFileSync(path.join(dir, 'expected.json'), 'utf8'),
      ) as Expected;
      const simulated = expected.flags.includes('--simulate');
      if (!simulated) sim = await startSimulator({ apiKey: KEY, latency: 0, port: SIM_PORT });
      const api = simulated ? ['--simulate'] : ['--base-url', `http://127.0.0.1:${SIM_PORT}`];
      const lookAt = [...api, '--out', expected.out];
      const cli = (args: string[]) => shotlist(args, { cwd: dir, env: childEnv });
      const journal = path.join(dir, expected.out, 'journal.ndjson');
      const done = completedKeys(journal);
      const sent = intents(journal);

      const status = await cli(['status', 'film.yaml', '--json', ...lookAt]);
      expect(status.exitCode, status.stderr).toBe(0);
      const shots = (JSON.parse(status.stdout) as { shots: Expected['status'] }).shots;
      expect(shots.map(({ id, take, state, picked }) => ({ id, take, state, picked }))).toEqual(
        expected.status,
      );
      expect(shots.every((s) => s.state === 'cached')).toBe(true);

      const plan = await cli(['plan', 'film.yaml', '--json', ...lookAt]);
      expect(plan.exitCode, plan.stderr).toBe(0);
      const keys = (JSON.parse(plan.stdout) as { shots: { key: string }[] }).shots.map(
        (s) => s.key,
      );
      expect(keys).toHaveLength(expected.status.length);
      expect(keys.filter((k) => !done.has(k))).toEqual([]);

      const run = await cli(['run', 'film.yaml', ...expected.flags]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(intents(journal)).toBe(sent);
      if (sim) expect(sim.ledger().submissions).toHaveLength(0);
      expect(clipsOf(dir)).toEqual(expected.clips);

      const stitch = await cli(['stitch', 'film.yaml', ...lookAt]);
      expect(stitch.exitCode, stitch.stderr).toBe(0);
      const report = readReport(path.join(dir, expected.out));
      const picked = report.shots
        .filter((s) => s.picked)
        .map((s) => ({ id: s.id, take: s.take, sha256: s.sha256 }));
      expect(picked).toEqual(expected.picked);

      const cost = await cli(['cost', 'film.yaml', '--json', '--out', expected.out]);
      expect(cost.exitCode, cost.stderr).toBe(0);
      const totals = JSON.parse(cost.stdout) as Expected['cost'];
      expect({
        tasks: totals.tasks,
        billed: totals.billed,
        failed: totals.failed,
        at_risk: totals.at_risk,
      }).toEqual(expected.cost);
    },
    300_000,
  );
});
