import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLES, cli, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('shotlist validate, plan and init (in-process through main)', () => {
  // The built bin's own start is checked end to end (test/e2e/bin-usage.test.ts).
  it('prints usage with --help and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Usage: shotlist <command>');
    for (const command of ['validate', 'plan', 'sim', 'init']) expect(r.stdout).toContain(command);
  });

  it('refuses an unknown command with exit 2 and the fix', async () => {
    const r = await cli(['plna']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown command "plna"');
  });

  it('validates every example', async () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(7);
    const r = await cli(['validate', ...files.map((f) => path.join(EXAMPLES, f))]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(files.length);
  });

  it('reports a bad manifest as file:line:col with the fix, exit 2', async () => {
    const file = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(
      file,
      'version: 1\nname: bad\nshots:\n  - id: a\n    prompt: hi\n    ratoi: "16:9"\n',
    );
    const r = await cli(['validate', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${file}:6:5: error: unknown key "ratoi" in shots[0]`);
    expect(r.stderr).toContain('fix: did you mean "ratio"?');
    const plan = await cli(['plan', file]);
    expect(plan.exitCode).toBe(2);
    expect(plan.stderr).toContain('nothing was sent');
  });

  it('prints the plan table with totals and the budget verdict', async () => {
    const r = await cli(['plan', path.join(EXAMPLES, 'campaign.yaml')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /vertical\s+c03-logo\s+1\s+text_to_video\s+seedance-2-official2-fast\s+720p\s+9:16\s+4\s+0.6\s+2.40 CNY/,
    );
    expect(r.stdout).toContain('total: 8 shots, 38 billable seconds, cost 22.80 CNY');
    expect(r.stdout).toContain('budget: ok');
  });

  it('prints one JSON document with --json, bodies included', async () => {
    const r = await cli([
      'plan',
      '--json',
      '--variant',
      'vertical',
      path.join(EXAMPLES, 'campaign.yaml'),
    ]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.manifest.name).toBe('spring-campaign');
    expect(doc.shots).toHaveLength(4);
    expect(doc.shots[0]).toMatchObject({
      id: 'c01-reveal',
      variant: 'vertical',
      take: 1,
      ratio: '9:16',
      cost: 3,
    });
    expect(doc.shots[0].request).toEqual({
      model: 'seedance-2-official2-fast',
      prompt: '电影感特写,温馨木地板上的浅蓝色塑料收纳箱,柔和的自然阳光',
      duration: 5,
      metadata: { ratio: '9:16', generate_audio: true },
    });
    expect(doc.totals).toMatchObject({ shots: 4, seconds: 19, cost: 11.4, currency: 'CNY' });
    expect(doc.budget).toMatchObject({ max_cost: 60, max_seconds: 100, ok: true });
  });

  it('exits 3 when the plan is over budget', async () => {
    const r = await cli(['plan', '--max-cost', '5', path.join(EXAMPLES, 'campaign.yaml')]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain('budget: EXCEEDED');
  });

  it('says when no price is set instead of inventing one', async () => {
    const r = await cli(['plan', path.join(EXAMPLES, 'image-to-video.yaml')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('not set');
    expect(r.stdout).toContain('price not set');
  });

  it('rejects unknown flags and unknown shot ids with exit 2', async () => {
    const flag = await cli(['plan', '--colour', path.join(EXAMPLES, 'campaign.yaml')]);
    expect(flag.exitCode).toBe(2);
    const only = await cli(['plan', '--only', 'c01-revael', path.join(EXAMPLES, 'campaign.yaml')]);
    expect(only.exitCode).toBe(2);
    expect(only.stderr).toContain('did you mean "c01-reveal"?');
  });

  it('refuses --sim-latency without --simulate', async () => {
    const r = await cli([
      'run',
      '--sim-latency',
      '0',
      '--yes',
      path.join(EXAMPLES, 'quickstart.yaml'),
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--sim-latency only applies to --simulate');
  });

  it('init writes a starter manifest that validates, and never overwrites', async () => {
    const file = path.join(tmp.dir, 'starter.yaml');
    const first = await cli(['init', file]);
    expect(first.exitCode).toBe(0);
    expect((await cli(['validate', file])).exitCode).toBe(0);
    const before = readFileSync(file, 'utf8');
    const second = await cli(['init', file]);
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain('already exists');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
