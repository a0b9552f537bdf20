import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateManifest } from '../../src/manifest/load.js';
import { outputName, stitchJobs } from '../../src/media/outputs.js';
import { plan } from '../../src/plan/plan.js';

const manifest = `version: 1
name: x
defaults: { duration: 4, ratio: "16:9" }
variants:
  - { name: wide }
  - { name: vertical, ratio: "9:16", size: 720p }
shots:
  - { id: a, prompt: one, takes: 2 }
  - { id: b, prompt: two, transition: { type: wipeleft, duration: 1 } }
  - { id: c, prompt: three, trim: { start: 1 } }
stitch:
  order: [c, a, b]
  transition: { type: fade }
  soundtrack: { file: music/theme.mp3 }
`;

describe('stitchJobs', () => {
  const p = plan(validateManifest(manifest, 'x.yaml'));
  const files = (s: { id: string; variant: string | null; take: number }) =>
    `/out/clips/${s.variant}/${s.id}${s.take > 1 ? `.take${s.take}` : ''}.mp4`;

  it('makes one output per variant, in stitch.order, from the first take', () => {
    const { jobs, skipped } = stitchJobs(p, files, '/out', '/manifests');
    expect(skipped).toEqual([]);
    expect(jobs.map((j) => j.options.output)).toEqual([
      '/out/final.wide.mp4',
      '/out/final.vertical.mp4',
    ]);
    expect(jobs[0]!.options.clips.map((c) => c.file)).toEqual([
      '/out/clips/wide/c.mp4',
      '/out/clips/wide/a.mp4',
      '/out/clips/wide/b.mp4',
    ]);
  });

  it('resolves defaults: transition duration, per-shot overrides, size from the variant, soundtrack path', () => {
    const { jobs } = stitchJobs(p, files, '/out', '/manifests');
    const [wide, vertical] = jobs.map((j) => j.options);
    expect(wide!.transition).toEqual({ type: 'fade', duration: 0.5 });
    expect(wide!.clips[2]!.transition).toEqual({ type: 'wipeleft', duration: 1 });
    expect(wide!.clips[0]!.trim).toEqual({ start: 1 });
    expect(wide!.size).toEqual({ width: 864, height: 496 });
    expect(vertical!.size).toEqual({ width: 720, height: 1280 });
    expect(wide!.soundtrack).toEqual({
      file: path.resolve('/manifests', 'music/theme.mp3'),
      volume: 0.3,
      fadeOut: 1,
      mode: 'mix',
    });
    expect(wide).toMatchObject({ audio: 'keep', fit: 'pad', crf: 20, preset: 'veryfast' });
  });

  it('skips a variant with a missing clip and says which', () => {
    const { jobs, skipped } = stitchJobs(
      p,
      (s) => (s.variant === 'vertical' && s.id === 'b' ? undefined : files(s)),
      '/out',
      '/m',
    );
    expect(jobs).toHaveLength(1);
    expect(skipped).toEqual([
      { variant: 'vertical', output: 'final.vertical.mp4', reason: expect.stringContaining('(b)') },
    ]);
  });

  it('names outputs per variant', () => {
    expect(outputName('final.mp4', null)).toBe('final.mp4');
    expect(outputName('cut.v2.mov', 'wide')).toBe('cut.v2.wide.mov');
  });
});
