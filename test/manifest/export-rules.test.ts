import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';
import { resolveExport, resolveLoudness } from '../../src/manifest/export-rules.js';
import { useCliWording } from '../helpers/cli-wording.js';

function errors(text: string) {
  return checkManifest(text, 'm.yaml')
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.line}:${d.col} ${d.message} | ${d.fix ?? ''}`);
}

useCliWording();

const head = `version: 1
name: demo
variants:
  - { name: vertical, ratio: "9:16" }
  - { name: wide, ratio: "16:9" }
shots:
  - { id: a, prompt: one }
stitch:
`;

describe('stitch.exports and stitch.loudness in validate', () => {
  it('reports a duplicate name, crf with bitrate, an unknown variant and a reserved name, each at its line', () => {
    const text = `${head}  exports:
    - tiktok
    - { name: tiktok, variants: [vertical] }
    - { name: web, crf: 20, bitrate: 4M, variants: [wide, square] }
    - { name: preview }
`;
    expect(errors(text)).toEqual([
      '11:15 the export name tiktok is used twice (also at stitch.exports[0]): both would write the same file | give each export its own name, e.g. { name: tiktok-2, ... }',
      '12:38 export web sets both crf (20) and bitrate (4M): an encode has one rate control | keep crf (constant quality) or bitrate (a target size), not both',
      '12:59 export web names the variant square, which the manifest does not have | use one of: vertical, wide',
      "13:15 the export name preview is taken by shotlist's own files (final.<variant>.preview.mp4) | choose another name, e.g. preview-cut",
    ]);
  });

  it('refuses an unknown preset and an unknown loudness preset at their lines, and accepts good ones', () => {
    const bad = errors(`${head}  loudness: loud\n  exports: [tiktok, vimeo]\n`);
    expect(bad.some((e) => e.startsWith('9:13 '))).toBe(true);
    expect(bad.some((e) => e.startsWith('10:21 '))).toBe(true);
    expect(
      errors(
        `${head}  loudness: { target: -16, true_peak: -1.5 }\n  exports: [tiktok, master, { name: web, size: 1280x720, bitrate: 4M, codec: h265 }]\n`,
      ),
    ).toEqual([]);
  });
});

describe('resolving exports', () => {
  it('gives the presets their size, rate, codec and loudness, and lets a custom one override', () => {
    expect(resolveExport('tiktok')).toMatchObject({
      size: { width: 1080, height: 1920 },
      fps: 30,
      codec: 'h264',
      loudness: { target: -14, truePeak: -1 },
    });
    expect(resolveExport('broadcast')).toMatchObject({ loudness: { target: -23 } });
    expect(resolveExport('broadcast').size).toBeUndefined();
    expect(resolveExport('master').loudness).toBeUndefined();
    const web = resolveExport({ name: 'youtube', bitrate: '8M', variants: ['wide'] });
    expect(web).toMatchObject({ size: { width: 1920, height: 1080 }, bitrate: '8M' });
    expect(web.crf).toBeUndefined();
    expect(resolveLoudness('broadcast')).toEqual({ target: -23, truePeak: -1 });
    expect(resolveLoudness({ target: -16 })).toEqual({ target: -16, truePeak: -1 });
  });
});
