import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { validateManifest } from '../../src/manifest/load.js';
import { checkBudget } from '../../src/plan/budget.js';
import { formatPlan } from '../../src/plan/format.js';
import { plan } from '../../src/plan/plan.js';
import { useCliWording } from '../helpers/cli-wording.js';

const campaign = `version: 1
name: campaign
defaults: { model: seedance-2-official, duration: 5, ratio: "16:9", audio: true }
vars: { hero: 一只橘猫 }
pricing: { currency: CNY, per_second: { seedance-2-official: 1.0 } }
budget: { max_cost: 40 }
variants:
  - { name: wide }
  - { name: vertical, ratio: "9:16", duration: 6 }
shots:
  - id: s01
    prompt: \${hero}在花园里
    takes: 2
  - id: s02
    prompt: \${hero}转头
    duration: 4
    assets: { images: [https://example.com/cat.jpg] }
`;

// Messages read through the command line, in its wording.
useCliWording();

describe('plan', () => {
  const loaded = validateManifest(campaign, 'campaign.yaml');

  it('plans every shot once per variant and take', () => {
    const p = plan(loaded);
    expect(p.shots.map((s) => `${s.variant}/${s.id}/${s.take}`)).toEqual([
      'wide/s01/1',
      'wide/s01/2',
      'wide/s02/1',
      'vertical/s01/1',
      'vertical/s01/2',
      'vertical/s02/1',
    ]);
  });

  it('applies built-in < defaults < variant < shot', () => {
    const p = plan(loaded);
    const vertical = p.shots.filter((s) => s.variant === 'vertical');
    expect(vertical.map((s) => s.seconds)).toEqual([6, 6, 4]);
    expect(vertical.every((s) => s.ratio === '9:16')).toBe(true);
    expect(vertical[0]!.request).toEqual({
      model: 'seedance-2-official',
      prompt: '一只橘猫在花园里',
      duration: 6,
      metadata: { ratio: '9:16', generate_audio: true },
    });
    expect(vertical[2]!.mode).toBe('image_to_video');
    expect(vertical[2]!.request.images).toEqual(['https://example.com/cat.jpg']);
  });

  it('shows the effective size without sending it', () => {
    const p = plan(loaded);
    expect(p.shots[0]!.size).toBe('480p');
    expect(p.shots[0]!.request.size).toBeUndefined();
  });

  it('lets command-line settings win over everything', () => {
    const p = plan(loaded, { overrides: { ratio: '1:1', duration: 8 } });
    expect(p.shots.every((s) => s.ratio === '1:1' && s.seconds === 8)).toBe(true);
    expect(() => plan(loaded, { overrides: { duration: 30 } })).toThrow(UsageError);
  });

  it('prices per second and checks the budget', () => {
    const p = plan(loaded);
    expect(p.totals).toMatchObject({
      shots: 6,
      seconds: 5 + 5 + 4 + 6 + 6 + 4,
      cost: 30,
      currency: 'CNY',
    });
    expect(p.budget).toMatchObject({ max_cost: 40, ok: true });
    const tight = plan(loaded, { budget: { max_cost: 10 } });
    expect(tight.budget.ok).toBe(false);
    // The limit is the flag's: the message names the flag, not the manifest's budget.
    expect(tight.budget.reason).toContain('exceeds --max-cost 10.00 CNY');
    expect(plan(loaded, { budget: { max_cost: 50 } }).budget.max_cost_from).toBeUndefined();
  });

  it('filters by variant and shot id, with a suggestion on typos', () => {
    expect(plan(loaded, { variant: 'wide', only: ['s02'] }).shots).toHaveLength(1);
    expect(() => plan(loaded, { only: ['s03'] })).toThrow(/does not have/);
    expect(() => plan(loaded, { variant: 'vertcal' })).toThrow(UsageError);
  });

  it('never invents a price', () => {
    const p = plan(
      validateManifest('version: 1\nname: x\nshots:\n  - { id: a, prompt: hi }\n', 'x.yaml'),
    );
    expect(p.shots[0]).toMatchObject({ unit_price: null, cost: null, seconds: 5 });
    expect(p.totals).toMatchObject({ cost: null, unpriced_seconds: 5 });
    expect(formatPlan(p)).toContain('price not set');
  });

  it('refuses a cost limit it cannot check', () => {
    expect(
      checkBudget({ max_cost: 10 }, { seconds: 5, cost: null, unpriced_seconds: 5, currency: null })
        .ok,
    ).toBe(false);
    expect(
      checkBudget(
        { max_seconds: 4 },
        { seconds: 5, cost: null, unpriced_seconds: 5, currency: null },
      ),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('max_seconds') });
    expect(
      checkBudget(undefined, { seconds: 5, cost: 5, unpriced_seconds: 0, currency: 'CNY' }).ok,
    ).toBe(true);
  });

  it('sends metadata.action only when the images would make the API infer another mode', () => {
    const text = `version: 1
name: x
shots:
  - id: a
    mode: multi_ref
    prompt: "@image_file_1 @audio_file_1"
    assets: { images: [https://e.com/a.png], audios: [https://e.com/a.mp3] }
  - id: b
    mode: image_to_video
    prompt: hi
    assets: { images: [https://e.com/a.png] }
`;
    const [a, b] = plan(validateManifest(text, 'x.yaml')).shots;
    expect(a!.request.metadata).toEqual({
      audio_urls: ['https://e.com/a.mp3'],
      action: 'multi_ref',
    });
    expect(b!.request.metadata).toBeUndefined();
  });

  it('merges extra metadata last, as it is', () => {
    const text = `version: 1
name: x
defaults: { metadata: { seed: 1, style: a } }
shots:
  - { id: a, prompt: hi, ratio: "1:1", metadata: { style: b } }
`;
    const [a] = plan(validateManifest(text, 'x.yaml')).shots;
    expect(JSON.stringify(a!.request)).toBe(
      '{"model":"seedance-2-official","prompt":"hi","metadata":{"ratio":"1:1","seed":1,"style":"b"}}',
    );
  });
});
