import { describe, expect, it } from 'vitest';
import type { VideoRequest } from '../../src/api/contract.js';
import { expandCast } from '../../src/manifest/cast.js';
import { checkManifest } from '../../src/manifest/load.js';
import { buildRequest } from '../../src/manifest/request.js';
import { resolveShot } from '../../src/manifest/resolve.js';

const A = 'https://cdn.example.com/a.png';
const B = 'https://cdn.example.com/b.png';
const C = 'https://cdn.example.com/c.png';
const D = 'https://cdn.example.com/d.png';

/** A manifest with this cast and one shot (its prompt, and its own images if any). */
function manifest(cast: string, shot: string): string {
  return `version: 1\nname: cast\ncast:\n${cast}\nshots:\n  - ${shot}\n`;
}

/** The body of the manifest's first shot, after a clean validation. */
function bodyOf(text: string): VideoRequest {
  const result = checkManifest(text, 'cast.yaml');
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return buildRequest(resolveShot(result.loaded!.manifest, 0, null)).body;
}

function problemsOf(text: string): string[] {
  return checkManifest(text, 'cast.yaml').diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.severity} ${d.message}${d.fix ? ` | ${d.fix}` : ''}`,
  );
}

describe('cast expansion: the exact body of each case', () => {
  const cases: { name: string; cast: string; shot: string; body: Partial<VideoRequest> }[] = [
    {
      name: 'one member with a description, two images',
      cast: `  mimi: { images: ["${A}", "${B}"], description: "橘色短毛猫,绿眼睛" }`,
      shot: '{ id: s05, prompt: "@mimi 在屋顶上奔跑,月光" }',
      body: {
        prompt: '橘色短毛猫,绿眼睛 @image_file_1 @image_file_2 在屋顶上奔跑,月光',
        images: [A, B],
        metadata: { action: 'multi_ref' },
      },
    },
    {
      name: 'two members, the second without a description, mention ends at a CJK character',
      cast: `  mimi: { images: ["${A}"], description: 橘猫 }\n  bobo: { images: ["${B}", "${C}"] }`,
      shot: '{ id: s1, prompt: "@bobo追着@mimi跑" }',
      body: { prompt: '@image_file_1 @image_file_2追着橘猫 @image_file_3跑', images: [B, C, A] },
    },
    {
      name: 'own images plus two members, a shared image kept once',
      cast: `  mimi: { images: ["${B}", "${C}"] }\n  bobo: { images: ["${C}", "${D}"] }`,
      shot: `{ id: s1, prompt: "@image_file_1 的屋顶, @mimi 和 @bobo", assets: { images: ["${A}", "${B}"] } }`,
      body: {
        prompt: '@image_file_1 的屋顶, @image_file_2 @image_file_3 和 @image_file_3 @image_file_4',
        images: [A, B, C, D],
      },
    },
    {
      name: 'a member mentioned twice: the same references both times, its images once',
      cast: `  mimi: { images: ["${A}", "${B}", "${C}"], description: cat }`,
      shot: '{ id: s1, prompt: "@mimi sleeps; @mimi wakes." }',
      body: {
        prompt:
          'cat @image_file_1 @image_file_2 @image_file_3 sleeps; cat @image_file_1 @image_file_2 @image_file_3 wakes.',
        images: [A, B, C],
      },
    },
    {
      name: 'one image: metadata.action says multi_ref (the API would infer image_to_video)',
      cast: `  mimi: { images: ["${A}"] }`,
      shot: '{ id: s1, prompt: "@mimi runs" }',
      body: { prompt: '@image_file_1 runs', images: [A], metadata: { action: 'multi_ref' } },
    },
    {
      name: 'two images: metadata.action says multi_ref (the API would infer first_last_frame)',
      cast: `  mimi: { images: ["${A}", "${B}"] }`,
      shot: '{ id: s1, prompt: "@mimi runs" }',
      body: {
        prompt: '@image_file_1 @image_file_2 runs',
        images: [A, B],
        metadata: { action: 'multi_ref' },
      },
    },
    {
      name: 'a handle that resembles no member is left alone, and so is the shot',
      cast: `  mimi: { images: ["${A}"] }`,
      shot: '{ id: s1, prompt: "sunset, by @studio_gibbon" }',
      body: { prompt: 'sunset, by @studio_gibbon' },
    },
    {
      name: 'an API reference is not a mention',
      cast: `  mimi: { images: ["${A}", "${B}", "${C}"] }`,
      shot: `{ id: s1, prompt: "@image_file_1 then @mimi", assets: { images: ["${D}"] } }`,
      body: {
        prompt: '@image_file_1 then @image_file_2 @image_file_3 @image_file_4',
        images: [D, A, B, C],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const body = bodyOf(manifest(c.cast, c.shot));
      expect({ prompt: body.prompt, images: body.images, metadata: body.metadata }).toEqual({
        prompt: c.body.prompt,
        images: c.body.images,
        metadata: c.body.metadata,
      });
    });
  }

  it('leaves a prompt without mentions exactly as it was', () => {
    expect(expandCast('a @ sign, an email a@b', [A], { mimi: { images: [B] } })).toEqual({
      prompt: 'a @ sign, an email a@b',
      images: [A],
      sources: [{ own: 0 }],
      members: [],
      typos: [],
    });
  });
});

describe('cast rules, at file:line:col with the fix', () => {
  it('refuses more than 9 images after expansion, naming the shot and the members', () => {
    const urls = (p: string, n: number) =>
      Array.from({ length: n }, (_, i) => `"https://cdn.example.com/${p}${i}.png"`).join(', ');
    const text = manifest(
      `  mimi: { images: [${urls('m', 4)}] }\n  bobo: { images: [${urls('b', 4)}] }`,
      `{ id: s7, prompt: "@mimi and @bobo", assets: { images: [${urls('own', 2)}] } }`,
    );
    expect(problemsOf(text)).toEqual([
      '7:23 error shot s7 has 10 images with its cast (@mimi, @bobo); multi_ref takes at most 9 | remove 1: mention fewer members, or give them or the shot fewer images',
    ]);
  });

  it('accepts exactly 9 images', () => {
    const urls = Array.from({ length: 9 }, (_, i) => `"https://cdn.example.com/${i}.png"`);
    const body = bodyOf(
      manifest(`  mimi: { images: [${urls.join(', ')}] }`, '{ id: s1, prompt: "@mimi" }'),
    );
    expect(body.images).toHaveLength(9);
  });

  it('says did-you-mean for a mention close to a member', () => {
    const text = manifest(`  mimi: { images: ["${A}"] }`, '{ id: s1, prompt: "@mimj runs" }');
    expect(problemsOf(text)).toEqual([
      '6:24 error shot s1 mentions @mimj, which is not in the cast | did you mean "@mimi"? (cast: mimi)',
    ]);
  });

  it('refuses a cast name that the API would read as its own reference', () => {
    const text = manifest(`  image_file_1: { images: ["${A}"] }`, '{ id: s1, prompt: "x" }');
    expect(problemsOf(text)).toEqual([
      '4:3 error cast name "image_file_1" is how the API refers to a shot\'s own media (@image_file_1) | rename it, e.g. image_ref',
    ]);
  });

  it('refuses a member without images', () => {
    const text = manifest('  mimi: { images: [] }', '{ id: s1, prompt: "x" }');
    expect(problemsOf(text)).toEqual([
      '4:19 error cast member "mimi" has no images | give it at least one image (a URL or a file next to the manifest)',
    ]);
  });

  it('refuses a mode other than multi_ref on a shot that mentions a member', () => {
    const text = manifest(
      `  mimi: { images: ["${A}"] }`,
      '{ id: s1, prompt: "@mimi", mode: image_to_video }',
    );
    expect(problemsOf(text)).toEqual([
      '6:38 error shot s1 mentions @mimi from the cast, which needs mode multi_ref, not image_to_video | remove the mode (a cast mention sets multi_ref), or the mention',
    ]);
  });
});
