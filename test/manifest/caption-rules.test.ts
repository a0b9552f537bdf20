import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shotlist-caption-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(
  body: string,
  options: { cjkFont?: (font: string | undefined, text: string) => boolean } = {},
) {
  const text = `version: 1\nname: captions\ndefaults: { duration: 4 }\n${body}`;
  return checkManifest(text, 'm.yaml', { dir, ...options }).diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.message} | ${d.fix}`,
  );
}

describe('validate: captions and cards', () => {
  it('accepts captions within their shots and cards next to shots of the cut', () => {
    writeFileSync(path.join(dir, 'subs.srt'), '1\n00:00:00,000 --> 00:00:01,000\nhi\n');
    expect(
      problems(`shots:
  - { id: a, prompt: "a cat", caption: "hello" }
  - id: b
    prompt: "a dog"
    caption:
      - { text: "one", end: 2 }
      - { text: "two", start: 2 }
stitch:
  captions: { file: subs.srt, burn: true }
  cards:
    - { text: "The end", duration: 2, at: { after: b } }
`),
    ).toEqual([]);
  });

  it('reports captions past the kept part and overlapping ones at their line, with the fix', () => {
    expect(
      problems(`shots:
  - id: a
    prompt: "a cat"
    trim: { end: 3 }
    caption:
      - { text: "one", start: 0, end: 2 }
      - { text: "two", start: 1.5, end: 3.5 }
      - { text: "three", start: 3.2 }
`),
    ).toEqual([
      '10:31 caption starts at 1.5, before the caption above it ends (at 2) | start it at 2 or later: captions of a shot follow one another',
      '10:41 caption end 3.5 is past the end: shot a keeps 3 s after its trim | end it at most at 3 s, or leave end out (to the end of the shot)',
      '11:33 caption start 3.2 is past the end: shot a keeps 3 s after its trim | start it before 3 s',
    ]);
  });

  it('reports a card next to a shot not in the cut, and missing files', () => {
    const found = problems(`shots:
  - { id: a, prompt: "a cat" }
stitch:
  captions: { file: nope.vtt, style: { font: fonts/none.ttf } }
  cards:
    - { text: "x", duration: 1, at: { before: zz }, background: { image: nope.png } }
`);
    expect(found).toEqual([
      expect.stringMatching(/^7:21 subtitle file "nope.vtt" does not exist/),
      expect.stringMatching(/^7:46 font file "fonts\/none.ttf" does not exist/),
      '9:47 card 1 is placed before shot "zz", which is not in the cut | name one of a, or use at: start or at: end',
      expect.stringMatching(/^9:74 card image "nope.png" does not exist/),
    ]);
  });

  it('asks for a CJK font only when CJK text is drawn and none is named or found', () => {
    const body = `shots:
  - { id: a, prompt: "a cat", caption: "你好" }
`;
    expect(problems(body, { cjkFont: () => false })).toEqual([
      expect.stringMatching(
        /^5:40 this text has Chinese, Japanese or Korean characters and no CJK font was found .*apt-get install fonts-noto-cjk.*stitch\.captions\.style\.font/,
      ),
    ]);
    expect(problems(body, { cjkFont: () => true })).toEqual([]);
    expect(problems(body.replace('你好', 'hello'), { cjkFont: () => false })).toEqual([]);
  });

  it('asks whether a named caption font has the CJK glyphs, and says so when it has not', () => {
    writeFileSync(path.join(dir, 'Latin.ttf'), 'not read here');
    const asked: [string | undefined, string][] = [];
    const body = `shots:
  - { id: a, prompt: "a cat", caption: "清晨 / Morning" }
stitch:
  captions: { style: { font: ./Latin.ttf } }
`;
    const found = problems(body, {
      cjkFont: (font, text) => {
        asked.push([font, text]);
        return false;
      },
    });
    expect(asked).toEqual([[path.join(dir, 'Latin.ttf'), '清晨 / Morning']]);
    expect(found).toEqual([
      expect.stringMatching(
        /^5:40 this text has Chinese, Japanese or Korean characters that the caption font \.\/Latin\.ttf has no glyphs for \(they would be drawn as boxes\) \| install a CJK font/,
      ),
    ]);
  });
});
