import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, readReport, runArgs } from './run-helpers.js';
import { parseEvents } from './events-schema.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-money-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

/** Every number under a key naming money (`cost`, `new_cost`, `spent_cost`...) in a JSON value. */
function moneyFigures(value: unknown, key = '', into: number[] = []): number[] {
  if (typeof value === 'number' && /cost/.test(key)) into.push(value);
  else if (Array.isArray(value)) for (const v of value) moneyFigures(v, key, into);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) moneyFigures(v, k, into);
  return into;
}

/** Asserts no money figure has more decimals than the currency's two. */
function expectCents(json: unknown): void {
  const figures = moneyFigures(json);
  expect(figures.length).toBeGreaterThan(0);
  for (const v of figures) expect(String(v), String(v)).toMatch(/^-?\d+(\.\d{1,2})?$/);
}

/**
 * Three variants of three 5-second shots at 0.56 per second (2.8 a shot: floating point adds
 * three of them up to 8.399999999999999), and one shot of a model at 0.123 per second (0.615).
 */
function writeCampaign(dir: string, pricing: string, extra = ''): string {
  const file = path.join(dir, 'campaign.yaml');
  writeFileSync(
    file,
    `version: 1
name: campaign
defaults: { model: seedance-2-official, duration: 5, size: 480p }
pricing: { currency: USD, per_second: ${pricing} }
${extra}variants:
  - { name: wide, ratio: '16:9' }
  - { name: square, ratio: '1:1' }
  - { name: tall, ratio: '9:16' }
shots:
  - id: s1
    prompt: a cat in a garden
  - id: s2
    prompt: the cat turns to the camera
  - id: s3
    prompt: the cat jumps
    model: seedance-2-official2-fast
    size: 480p
`,
  );
  return file;
}

const PRICES = '{ seedance-2-official: 0.56, seedance-2-official2-fast: 0.123 }';

describe('money is exact', () => {
  it('plan, status, run, report and cost show every figure to the cent, totals exact', async () => {
    sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 5 });
    const manifest = writeCampaign(tmp.dir, PRICES);
    const out = path.join(tmp.dir, 'out');

    const planned = await shotlist(['plan', manifest, '--json'], { cwd: tmp.dir });
    expect(planned.exitCode, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as {
      shots: { cost: number }[];
      totals: { cost: number };
    };
    expectCents(plan);
    // 0.123 x 5 = 0.615 rounds half up to 0.62; six shots at 2.8 and three at 0.62.
    expect(plan.shots.map((s) => s.cost)).toContain(0.62);
    expect(plan.totals.cost).toBe(18.66);
    const table = await shotlist(['plan', manifest], { cwd: tmp.dir });
    expect(table.stdout).toContain('cost 18.66 USD');
    expect(table.stdout).not.toMatch(/\d\.\d{3,} USD/);

    const status = await shotlist(
      ['status', manifest, '--out', out, '--base-url', sim.url, '--json'],
      { cwd: tmp.dir },
    );
    expectCents(JSON.parse(status.stdout));
    expect(JSON.parse(status.stdout)).toMatchObject({ new_cost: 18.66 });

    const run = await shotlist([...runArgs(manifest, sim, out), '--json'], {
      env: childEnv,
      cwd: tmp.dir,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const { events } = parseEvents(run.stdout, run.exitCode);
    for (const e of events) if (moneyFigures(e).length > 0) expectCents(e);
    const planEvent = events.find((e) => e.event === 'plan');
    const summary = events.find((e) => e.event === 'summary');
    expect(JSON.stringify(planEvent)).toContain('18.66');
    expect(summary).toMatchObject({ spend: { currency: 'USD', billed: { cost: 18.66 } } });
    const report = readReport(out);
    expectCents(report);
    expect(report.totals.spend?.billed.cost).toBe(18.66);
    expect(run.stderr).toContain('18.66 USD');

    const cost = await shotlist(['cost', manifest, '--out', out, '--json'], { cwd: tmp.dir });
    expect(cost.exitCode, cost.stderr).toBe(0);
    expectCents(JSON.parse(cost.stdout));
    expect(JSON.parse(cost.stdout)).toMatchObject({ billed: { seconds: 45, cost: 18.66 } });
  });
});

describe('prices by model and size', () => {
  it('--size 720p with a price per size doubles the cost exactly', async () => {
    const manifest = writeCampaign(
      tmp.dir,
      '{ seedance-2-official: { 480p: 0.28, 720p: 0.56 }, seedance-2-official2-fast: { 480p: 0.14, 720p: 0.28 } }',
    );
    const totals = async (...flags: string[]) => {
      const r = await shotlist(['plan', manifest, '--json', ...flags], { cwd: tmp.dir });
      expect(r.exitCode, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { totals: { cost: number } }).totals.cost;
    };
    expect(await totals()).toBe(10.5);
    expect(await totals('--size', '720p')).toBe(21);
  });

  it('a size without a price shows seconds and refuses a cost budget', async () => {
    const manifest = writeCampaign(
      tmp.dir,
      '{ seedance-2-official: { 480p: 0.28 }, seedance-2-official2-fast: 0.1 }',
      'budget: { max_cost: 100 }\n',
    );
    const r = await shotlist(['plan', manifest, '--json', '--size', '720p'], { cwd: tmp.dir });
    expect(r.exitCode).toBe(3);
    const plan = JSON.parse(r.stdout) as {
      shots: { id: string; cost: number | null }[];
      totals: { cost: number; unpriced_seconds: number };
      budget: { ok: boolean; reason: string };
    };
    expect(plan.shots.filter((s) => s.id !== 's3').every((s) => s.cost === null)).toBe(true);
    expect(plan.totals).toMatchObject({ cost: 1.5, unpriced_seconds: 30 });
    expect(plan.budget.reason).toContain('30 seconds have no price');
  });
});
