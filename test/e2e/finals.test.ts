import {
  existsSync,
  readFileSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { shotlist, tempDir } from '../helpers/cli.js';
import { readReport } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-finals-');
});
afterEach(() => tmp.cleanup());

function writeManifest(second: string, crf = 20): string {
  const file = path.join(tmp.dir, 'promo.yaml');
  writeFileSync(
    file,
    `version: 1
name: promo
defaults: { duration: 4, ratio: "16:9" }
variants:
  - { name: wide, ratio: "16:9" }
  - { name: tall, ratio: "9:16" }
shots:
  - { id: s01, prompt: a lighthouse at dusk }
  - { id: s02, prompt: ${second} }
stitch: { output: final.mp4, transition: { type: fade, duration: 0.5 }, crf: ${crf} }
`,
  );
  return file;
}

async function run(manifest: string, ...more: string[]) {
  const out = path.join(tmp.dir, 'out');
  const args = ['run', manifest, '--simulate', '--sim-latency', '0', '--yes', '--out', out];
  const r = await shotlist([...args, ...more], { cwd: tmp.dir });
  return { ...r, out };
}

const identity = (file: string) => {
  const s = statSync(file);
  return { mtimeMs: s.mtimeMs, ino: s.ino, size: s.size };
};

it('a no-op run leaves every final untouched; new stitch settings stitch again', async () => {
  const manifest = writeManifest('waves on the rocks');
  const first = await run(manifest);
  expect(first.exitCode, first.stderr + first.stdout).toBe(0);
  const finals = ['final.wide.mp4', 'final.tall.mp4'].map((f) => path.join(first.out, f));
  const before = finals.map(identity);

  const again = await run(manifest);
  expect(again.exitCode, again.stderr).toBe(0);
  expect(finals.map(identity)).toEqual(before);
  expect(again.stdout).toContain(
    'final.wide.mp4: unchanged (same clips and stitch settings), not stitched again',
  );
  const outputs = readReport(again.out).outputs;
  expect(outputs.map((o) => [o.file, o.unchanged])).toEqual([
    ['final.wide.mp4', true],
    ['final.tall.mp4', true],
  ]);

  writeManifest('waves on the rocks', 24);
  const restitched = await run(manifest);
  expect(restitched.exitCode, restitched.stderr).toBe(0);
  expect(restitched.stdout).not.toContain('unchanged');
  expect(finals.map(identity).map((i) => i.ino)).not.toEqual(before.map((i) => i.ino));
});

it('a variant that cannot be stitched has its old final moved aside, and the report says so', async () => {
  const first = await run(writeManifest('waves on the rocks'));
  expect(first.exitCode, first.stderr).toBe(0);
  const out = first.out;
  const wide = readFileSync(path.join(out, 'final.wide.mp4'));

  // s02 is edited but only s01 is rendered: neither variant can be stitched.
  const edited = await run(writeManifest('gulls over the harbour'), '--only', 's01');
  expect(edited.exitCode, edited.stderr).toBe(0);
  expect(existsSync(path.join(out, 'final.wide.mp4'))).toBe(false);
  expect(existsSync(path.join(out, 'final.tall.mp4'))).toBe(false);
  expect(readFileSync(path.join(out, 'final.wide.stale.mp4')).equals(wide)).toBe(true);
  expect(existsSync(path.join(out, 'final.tall.stale.mp4'))).toBe(true);
  expect(edited.stdout).toContain(
    'final.wide.mp4 no longer matches the manifest: moved aside to final.wide.stale.mp4',
  );
  const report = readReport(out);
  expect(report.outputs).toEqual([]);
  expect(report.warnings).toContain(
    'final.wide.mp4 was not made again (a shot has no clip): the earlier one is now final.wide.stale.mp4',
  );

  // A link where a final was is never followed nor moved; what it points to is untouched.
  const outside = path.join(tmp.dir, 'precious.mp4');
  writeFileSync(outside, 'not ours');
  symlinkSync(outside, path.join(out, 'final.wide.mp4'));
  const linked = await run(writeManifest('gulls over the harbour'), '--only', 's01');
  expect(linked.exitCode, linked.stderr).toBe(0);
  expect(readFileSync(outside, 'utf8')).toBe('not ours');
  expect(statSync(path.join(out, 'final.wide.stale.mp4')).size).toBe(wide.length);
  unlinkSync(path.join(out, 'final.wide.mp4'));
});
