import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';
import { heldClock, until } from '../helpers/wait.js';
import { KEY, childEnv, submissionsByPrompt, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-plan-travel-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

/** The manifest of `writeManifest` with another budget line. */
function editManifest(file: string, budget: string): string {
  writeFileSync(file, readFileSync(file, 'utf8').replace('budget: { max_cost: 100 }', budget));
  return file;
}

const run = (cwd: string, args: string[]) => shotlist(args, { env: childEnv, cwd });

describe('plan and dry run say the verdict run acts on', () => {
  it('total budget: plan shows the journal, plan --save writes the plan and exits 3, --dry-run exits 3', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 3 });
    // Three 4-second shots at 1 CNY: 12 CNY over every run, the total limit 10.
    const manifest = editManifest(writeManifest(tmp.dir, 3), 'budget: { max_total_cost: 10 }');
    const out = path.join(tmp.dir, 'out');
    const where = ['--out', out, '--base-url', sim.url];
    const first = await run(tmp.dir, ['run', manifest, ...where, '--yes', '--only', 's01,s02']);
    expect(first.exitCode, first.stderr).toBe(0);

    const plan = await run(tmp.dir, ['plan', manifest, ...where]);
    expect(plan.exitCode, plan.stdout).toBe(3);
    expect(plan.stdout).toContain(
      'budget over every run: max_total_cost 10.00 CNY: EXCEEDED: 8 s (8.00 CNY) billed so far + 0 s (0.00 CNY) at risk + 4 s (4.00 CNY) this run',
    );

    const file = path.join(tmp.dir, 'plan.json');
    const save = await run(tmp.dir, ['plan', manifest, ...where, '--save', file]);
    expect(save.exitCode).toBe(3);
    expect(save.stdout).toContain('budget: EXCEEDED: 8.00 CNY billed so far');
    expect(save.stderr).toContain('OVER BUDGET');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { budget: { ok: boolean } };
    expect(saved.budget.ok).toBe(false);

    const dry = await run(tmp.dir, ['run', manifest, ...where, '--dry-run']);
    expect(dry.exitCode).toBe(3);
    expect(dry.stderr).toContain('the run would be refused (exit 3)');
    const real = await run(tmp.dir, ['run', manifest, ...where, '--yes', '--plan', file]);
    expect(real.exitCode).toBe(3);
    expect(sim.ledger().submissions).toHaveLength(2);
  });
});

describe('saved plans travel', () => {
  it('a byte-identical checkout in another folder applies the plan; applied again, nothing to send', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 4 });
    const a = path.join(tmp.dir, 'checkout-a');
    const b = path.join(tmp.dir, 'checkout-b');
    mkdirSync(a);
    writeManifest(a, 3);
    cpSync(a, b, { recursive: true });
    const save = await run(a, ['plan', 'film.yaml', '--base-url', sim.url, '--save', 'plan.json']);
    expect(save.exitCode, save.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(a, 'plan.json'), 'utf8')) as {
      manifest: { file: string };
      out: string;
    };
    expect(saved.manifest.file).toBe('film.yaml');
    expect(saved.out).toBe(path.join('renders', 'film'));
    cpSync(path.join(a, 'plan.json'), path.join(b, 'approved.json'));

    const apply = ['run', 'film.yaml', '--base-url', sim.url, '--yes', '--plan', 'approved.json'];
    const r = await run(b, apply);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(3);
    expect(existsSync(path.join(b, 'renders', 'film', 'final.mp4'))).toBe(true);

    const again = await run(b, apply);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to send');
    expect(sim.ledger().submissions).toHaveLength(3);
  });

  it('a run --plan killed midway resumes with the same plan, each shot sent once', async () => {
    // Two tasks at a time, each 2-3 s of a clock that stands still until the kill: it lands
    // with shots in flight and unsent, however slow the machine.
    const clock = heldClock();
    sim = await startSimulator({ apiKey: KEY, latency: '2-3', seed: 6, clock: clock.now });
    const manifest = writeManifest(tmp.dir, 8);
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace('concurrency: 4', 'concurrency: 2'),
    );
    const where = ['--base-url', sim.url];
    const save = await run(tmp.dir, ['plan', manifest, ...where, '--save', 'plan.json']);
    expect(save.exitCode, save.stderr).toBe(0);
    const apply = ['run', manifest, ...where, '--yes', '--plan', 'plan.json'];
    const child = spawnShotlist(apply, { env: childEnv, cwd: tmp.dir });
    // Two task ids in the journal (the ledger alone would let the kill fall between a POST
    // and its journaled answer, leaving that shot unknown).
    const journal = path.join(tmp.dir, 'renders', 'film', 'journal.ndjson');
    const tasks = () =>
      existsSync(journal) ? readFileSync(journal, 'utf8').split('"type":"task"').length - 1 : 0;
    await until(() => tasks() >= 2 || child.exitCode !== null, 'two journaled tasks');
    child.kill('SIGKILL');
    await child;
    clock.release();
    const before = sim.ledger().submissions.length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(8);

    const resumed = await run(tmp.dir, apply);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const sent = submissionsByPrompt(sim);
    expect(sent.size).toBe(8);
    expect([...sent.values()].every((n) => n === 1)).toBe(true);
  });

  it('plan --save --shard and run --plan --shard work together; another shard is refused', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 8 });
    const manifest = writeManifest(tmp.dir, 6);
    const where = ['--base-url', sim.url];
    const save = await run(tmp.dir, [
      'plan',
      manifest,
      ...where,
      '--shard',
      '2/3',
      '--save',
      'p2.json',
    ]);
    expect(save.exitCode, save.stderr).toBe(0);
    const n = (
      JSON.parse(readFileSync(path.join(tmp.dir, 'p2.json'), 'utf8')) as { shots: unknown[] }
    ).shots.length;
    expect(n).toBeGreaterThan(0);
    const other = await run(tmp.dir, [
      'run',
      manifest,
      ...where,
      '--yes',
      '--shard',
      '1/3',
      '--plan',
      'p2.json',
    ]);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toContain('the plan is of shard 2/3, the run of shard 1/3');
    expect(sim.ledger().submissions).toHaveLength(0);
    const r = await run(tmp.dir, [
      'run',
      manifest,
      ...where,
      '--yes',
      '--shard',
      '2/3',
      '--plan',
      'p2.json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(n);
  });

  it('an old plan file with absolute paths keeps working where it did', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 2 });
    const manifest = writeManifest(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const where = ['--out', out, '--base-url', sim.url];
    const file = path.join(tmp.dir, 'plan.json');
    expect((await run(tmp.dir, ['plan', manifest, ...where, '--save', file])).exitCode).toBe(0);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      manifest: { file: string };
      out: string;
    };
    writeFileSync(
      file,
      JSON.stringify({ ...saved, manifest: { ...saved.manifest, file: manifest }, out }),
    );
    const r = await run(tmp.dir, ['run', manifest, ...where, '--yes', '--plan', file]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sim.ledger().submissions).toHaveLength(2);
  });
});
