import { describe, expect, it } from 'vitest';
import { checkManifest, validateManifest } from '../../src/manifest/load.js';
import { formatPlan } from '../../src/plan/format.js';
import { plan } from '../../src/plan/plan.js';
import { useCliWording } from '../helpers/cli-wording.js';

/** A manifest with these shots (each one YAML line under `shots:`). */
function manifest(...shots: string[]): string {
  return `version: 1\nname: chain\nshots:\n${shots.map((s) => `  - ${s}`).join('\n')}\n`;
}

function problemsOf(text: string, missingUploads?: 'error'): string[] {
  return checkManifest(
    text,
    'chain.yaml',
    missingUploads ? { missingUploads, dir: process.cwd() } : {},
  ).diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.severity} ${d.message}${d.fix ? ` | ${d.fix}` : ''}`,
  );
}

const chain = manifest(
  '{ id: s01, prompt: a }',
  '{ id: s02, prompt: b, assets: { images: [{ from: s01, frame: last }] } }',
  '{ id: s03, prompt: c, assets: { images: [https://cdn.example.com/x.png, { from: s02, frame: 1.5 }] } }',
  '{ id: s04, prompt: d }',
);

// Messages read through the command line, in its wording.
useCliWording();

describe('chained frames: validation at file:line:col', () => {
  it('accepts a chain, a first/last frame pair and a time in seconds', () => {
    expect(problemsOf(chain)).toEqual([]);
  });

  it('names an unknown shot with a did-you-mean', () => {
    const text = manifest(
      '{ id: s01, prompt: a }',
      '{ id: s02, prompt: b, assets: { images: [{ from: s1, frame: last }] } }',
    );
    expect(problemsOf(text)).toEqual([
      '5:54 error shot s02 takes a frame from "s1", which is not a shot id | did you mean "s01"?',
    ]);
  });

  it('names a cycle once, at the entry that closes it, and a shot waiting on itself', () => {
    const text = manifest(
      '{ id: s01, prompt: a, assets: { images: [{ from: s03, frame: last }] } }',
      '{ id: s02, prompt: b, assets: { images: [{ from: s01, frame: last }] } }',
      '{ id: s03, prompt: c, assets: { images: [{ from: s02, frame: first }] } }',
      '{ id: s04, prompt: d, assets: { images: [{ from: s04, frame: 2 }] } }',
    );
    expect(problemsOf(text)).toEqual([
      "5:54 error shots wait on each other's frames in a cycle: s01 -> s03 -> s02 -> s01 | take the frame from a shot earlier in the chain, or drop one of these entries",
      "7:54 error shots wait on each other's frames in a cycle: s04 -> s04 | take the frame from a shot earlier in the chain, or drop one of these entries",
    ]);
  });

  it('refuses a frame that is neither last, first nor a time', () => {
    const text = manifest(
      '{ id: s01, prompt: a }',
      '{ id: s02, prompt: b, assets: { images: [{ from: s01, frame: middle }] } }',
    );
    expect(problemsOf(text).length).toBeGreaterThan(0);
    expect(problemsOf(text).every((p) => p.startsWith('5:'))).toBe(true);
  });

  it('a real run needs an uploads section for its frames', () => {
    expect(problemsOf(chain, 'error')).toEqual([
      '5:46 error a frame of another shot is uploaded like a local file, and the manifest has no uploads section saying where to put it | add uploads: { provider: s3, bucket: ..., public_url: "https://.../{key}" } (or provider: command), or rehearse with --simulate',
    ]);
  });
});

describe('chained frames in the plan', () => {
  const loaded = validateManifest(chain, 'chain.yaml');

  it('gives each dependent its depends_on and a placeholder where the frame will stand', () => {
    const p = plan(loaded);
    const s03 = p.shots.find((s) => s.id === 's03')!;
    expect(s03.depends_on).toEqual([{ from: 's02', frame: 1.5, image: 1 }]);
    expect(s03.request.images).toEqual([
      'https://cdn.example.com/x.png',
      'shotlist-frame://s02/1.5',
    ]);
    expect(s03.mode).toBe('first_last_frame');
    expect(p.shots.find((s) => s.id === 's01')!.depends_on).toBeUndefined();
    expect(formatPlan(p)).toContain("s02's frame at 1.5 s");
  });

  it('--only plans the shots a dependent needs, down the chain, and says so', () => {
    const p = plan(loaded, { only: ['s03'] });
    expect(p.shots.map((s) => s.id)).toEqual(['s01', 's02', 's03']);
    expect(p.warnings.map((w) => `${w.line} ${w.message}`)).toEqual([
      '4 --only s03 also plans s01 (5 s, unpriced), s02 (5 s, unpriced); together 10 s, unpriced: frames come from their clips (a shot already done is not rendered again and costs nothing)',
    ]);
    expect(plan(loaded, { only: ['s04'] }).shots.map((s) => s.id)).toEqual(['s04']);
  });
});
