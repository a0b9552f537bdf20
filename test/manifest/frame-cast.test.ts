import { describe, expect, it } from 'vitest';
import { checkRequest } from '../../src/api/contract.js';
import { checkManifest, validateManifest } from '../../src/manifest/load.js';
import { buildRequest, shotMode } from '../../src/manifest/request.js';
import { resolveShot } from '../../src/manifest/resolve.js';
import { formatPlan } from '../../src/plan/format.js';
import { plan } from '../../src/plan/plan.js';

const A = 'https://cdn.example.com/a.png';
const B = 'https://cdn.example.com/b.png';
const L = 'https://cdn.example.com/last.png';
const FRAME = 'shotlist-frame://s01/last';
const CUT = 'https://cdn.example.com/frames/s01-last.png';

/**
 * A cast of two (mimi described, bobo not) and two shots: s01, and s02 written as given. s02
 * sits on line 8, its text starting at column 5.
 */
function manifest(s02: string): string {
  return [
    'version: 1',
    'name: frame-cast',
    'cast:',
    `  mimi: { images: ["${A}"], description: 橘色短毛猫 }`,
    `  bobo: { images: ["${B}"] }`,
    'shots:',
    '  - { id: s01, prompt: "@mimi 趴在窗台上" }',
    `  - ${s02}`,
    '',
  ].join('\n');
}

function problemsOf(text: string): string[] {
  return checkManifest(text, 'frame-cast.yaml').diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.severity} ${d.message}${d.fix ? ` | ${d.fix}` : ''}`,
  );
}

/** s02's mode and body, after a validation without errors or warnings. */
function s02Of(text: string) {
  expect(problemsOf(text)).toEqual([]);
  const shot = resolveShot(validateManifest(text, 'frame-cast.yaml').manifest, 1, null);
  const { body } = buildRequest(shot);
  // What the run sends: the frame's URL where its placeholder stands.
  const sent = { ...body, images: body.images?.map((u) => (u === FRAME ? CUT : u)) };
  expect(checkRequest(sent)).toEqual([]);
  return { mode: shotMode(shot), body };
}

const unsaid = manifest(
  '{ id: s02, prompt: "@mimi 跳下窗台", assets: { images: [{ from: s01, frame: last }] } }',
);

describe('a chained frame and a cast mention: what the shot renders', () => {
  it('as: first_frame starts on the frame (image_to_video, one image), the cast in words only', () => {
    const text = manifest(
      '{ id: s02, prompt: "@mimi 追着 @bobo 跳下窗台", assets: { images: [{ from: s01, frame: last, as: first_frame }] } }',
    );
    const { mode, body } = s02Of(text);
    expect(mode).toBe('image_to_video');
    expect(body.images).toEqual([FRAME]);
    expect(body.prompt).toBe('橘色短毛猫 追着 bobo 跳下窗台');
    expect(body.metadata?.action).toBeUndefined();
  });

  it('as: first_frame with a last frame after it gives first_last_frame, frame first', () => {
    const text = manifest(
      `{ id: s02, prompt: "@mimi 跳下窗台", assets: { images: [{ from: s01, frame: last, as: first_frame }, "${L}"] } }`,
    );
    const { mode, body } = s02Of(text);
    expect(mode).toBe('first_last_frame');
    expect(body.images).toEqual([FRAME, L]);
  });

  it('as: reference renders multi_ref, the frame @image_file_1, then each member in order', () => {
    const text = manifest(
      '{ id: s02, prompt: "@image_file_1 里的 @bobo 和 @mimi", assets: { images: [{ from: s01, frame: last, as: reference }] } }',
    );
    const { mode, body } = s02Of(text);
    expect(mode).toBe('multi_ref');
    expect(body.images).toEqual([FRAME, B, A]);
    expect(body.prompt).toBe('@image_file_1 里的 @image_file_2 和 橘色短毛猫 @image_file_3');
    // Three images: the API infers multi_ref itself.
    expect(body.metadata?.action).toBeUndefined();
  });

  it('as: reference without a mention still renders multi_ref (the action says so)', () => {
    const text = manifest(
      '{ id: s02, prompt: "@image_file_1 的窗台", assets: { images: [{ from: s01, frame: last, as: reference }] } }',
    );
    const { mode, body } = s02Of(text);
    expect(mode).toBe('multi_ref');
    expect(body.images).toEqual([FRAME]);
    expect(body.metadata?.action).toBe('multi_ref');
  });

  it('unsaid, it still renders multi_ref with the frame first (the warning says so)', () => {
    const shot = resolveShot(validateManifest(unsaid, 'frame-cast.yaml').manifest, 1, null);
    expect(shotMode(shot)).toBe('multi_ref');
    expect(buildRequest(shot).body.images).toEqual([FRAME, A]);
  });
});

describe('a chained frame and a cast mention: validate, at file:line:col', () => {
  it('warns once, at the frame entry, naming the frame, the member, the outcome and both choices', () => {
    expect(problemsOf(unsaid)).toEqual([
      "8:57 warning shot s02 starts on s01's last frame and mentions @mimi from the cast: it renders multi_ref, with the frame only a reference image (@image_file_1) beside the cast's images, so the cut will not join | write as: first_frame on the frame entry to start on the frame (image-to-video; @mimi in words only, without images), or as: reference to keep multi_ref (refer to the frame as @image_file_1 in the prompt)",
    ]);
  });

  it('says nothing once the manifest chose: as: on the entry, or a mode on the shot', () => {
    const chosen = [
      '{ id: s02, prompt: "@mimi 跳下窗台", assets: { images: [{ from: s01, frame: last, as: first_frame }] } }',
      '{ id: s02, prompt: "@image_file_1 @mimi", assets: { images: [{ from: s01, frame: last, as: reference }] } }',
      '{ id: s02, prompt: "@image_file_1 @mimi", mode: multi_ref, assets: { images: [{ from: s01, frame: last }] } }',
    ];
    for (const s02 of chosen) expect(problemsOf(manifest(s02))).toEqual([]);
  });

  it('refuses as: first_frame on an entry that is not the first image', () => {
    const text = manifest(
      `{ id: s02, prompt: "@mimi", assets: { images: ["${L}", { from: s01, frame: last, as: first_frame }] } }`,
    );
    expect(problemsOf(text)).toEqual([
      "8:118 error shot s02 starts on s01's last frame (as: first_frame), but it is not its first image | move the entry first in assets.images, or write as: reference",
    ]);
  });

  it('refuses two meanings in one shot, and an as: the mode contradicts', () => {
    expect(
      problemsOf(
        manifest(
          '{ id: s02, prompt: "@mimi", assets: { images: [{ from: s01, frame: last, as: first_frame }, { from: s01, frame: first, as: reference }] } }',
        ),
      ),
    ).toEqual([
      '8:128 error shot s02 says one frame is its first frame and another a reference | write the same as: on each frame entry of the shot (as: first_frame)',
    ]);
    expect(
      problemsOf(
        manifest(
          '{ id: s02, prompt: "@mimi", mode: multi_ref, assets: { images: [{ from: s01, frame: last, as: first_frame }] } }',
        ),
      ),
    ).toEqual([
      '8:39 error shot s02 starts on a frame (as: first_frame), but renders multi_ref | remove the mode, or write as: reference',
    ]);
    expect(
      problemsOf(
        manifest(
          '{ id: s02, prompt: "x", mode: image_to_video, assets: { images: [{ from: s01, frame: last, as: reference }] } }',
        ),
      ),
    ).toEqual([
      '8:35 error shot s02 takes a frame as a reference (as: reference), which needs mode multi_ref, not image_to_video | remove the mode, or write as: first_frame',
    ]);
  });
});

describe('a chained frame and a cast mention: plan', () => {
  it('notes the unsaid shot under the table, and only it', () => {
    const p = plan(validateManifest(unsaid, 'frame-cast.yaml'));
    expect(p.shots.map((s) => s.note)).toEqual([
      undefined,
      "s02 renders multi_ref: s01's last frame is only a reference image beside @mimi's, so the cut will not join; choose with as: first_frame or as: reference on the frame entry",
    ]);
    const text = formatPlan(p);
    const table = text.search(/^s02 +multi_ref/m);
    const note = text.indexOf("note: s02 renders multi_ref: s01's last frame");
    expect(table).toBeGreaterThan(0);
    expect(note).toBeGreaterThan(table);
    expect(note).toBeLessThan(text.indexOf('total:'));

    const chosen = manifest(
      '{ id: s02, prompt: "@mimi 跳下窗台", assets: { images: [{ from: s01, frame: last, as: first_frame }] } }',
    );
    const q = plan(validateManifest(chosen, 'frame-cast.yaml'));
    expect(q.shots[1]!.mode).toBe('image_to_video');
    expect(formatPlan(q)).not.toContain('note:');
  });
});
