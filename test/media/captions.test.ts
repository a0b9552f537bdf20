import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CAPTION_STYLE,
  drawtextFilter,
  filterValue,
  hasCjk,
  parseSubtitles,
  placeCues,
  writeSrt,
  writeVtt,
  drawtextLines,
  wrapText,
} from '../../src/media/captions.js';
import { cutParts, type CardOptions } from '../../src/media/cards.js';
import { captionFiles, captionText, layerOptions } from '../../src/media/layer-options.js';
import type { Stitch } from '../../src/manifest/types.gen.js';
import type { PlannedShot } from '../../src/plan/types.js';
import { copyBlocker, planStitch, type StitchOptions } from '../../src/media/stitch-plan.js';
import type { ProbeResult } from '../../src/media/probe.js';

const MODERN = {
  filters: new Set(['xfade', 'drawtext']),
  encoders: new Set(['libx264', 'mov_text']),
};

function clipProbe(file: string, seconds = 4): ProbeResult {
  return {
    file,
    durationSec: seconds,
    video: {
      codec: 'h264',
      width: 320,
      height: 180,
      pixFmt: 'yuv420p',
      frameRate: '24/1',
      fps: 24,
      timeBase: '1/12288',
      sampleAspectRatio: '1:1',
      durationSec: seconds,
    },
  } as ProbeResult;
}

function options(more: Partial<StitchOptions> = {}): StitchOptions {
  return {
    output: '/out/final.mp4',
    clips: [
      { file: '/c/a.mp4', id: 'a' },
      { file: '/c/b.mp4', id: 'b' },
    ],
    transition: { type: 'cut', duration: 0 },
    audio: 'mute',
    size: { width: 320, height: 180 },
    fit: 'pad',
    crf: 20,
    preset: 'veryfast',
    ...more,
  };
}

const card = (more: Partial<CardOptions> = {}): CardOptions => ({
  text: 'Title',
  duration: 1,
  at: 'start',
  background: { color: '#00ff00' },
  color: '#ffffff',
  fade: 0,
  ...more,
});

describe('subtitle files', () => {
  const cues = [
    { start: 0, end: 1.5, text: 'one' },
    { start: 61.25, end: 3725.004, text: 'two & <three>\nfour' },
  ];

  it('writes SRT and VTT with their own time formats, and reads both back', () => {
    const srt = writeSrt(cues);
    expect(srt).toBe(
      '1\n00:00:00,000 --> 00:00:01,500\none\n\n2\n00:01:01,250 --> 01:02:05,004\ntwo & <three>\nfour\n',
    );
    const vtt = writeVtt(cues);
    expect(vtt).toContain('WEBVTT\n\n00:00:00.000 --> 00:00:01.500\none\n');
    expect(vtt).toContain('two &amp; &lt;three&gt;\nfour');
    expect(parseSubtitles(srt, 'x.srt')).toEqual(cues);
    expect(parseSubtitles(vtt, 'x.vtt')).toEqual(cues);
  });

  it('drops blank lines inside a cue text, which would end the cue', () => {
    expect(writeSrt([{ start: 0, end: 1, text: 'a\n\nb' }])).toContain('a\nb\n');
  });

  it('reads VTT cue settings and short times, and names the line of a bad cue', () => {
    expect(parseSubtitles('WEBVTT\n\n01:02.500 --> 01:04.000 align:start\nhi\n', 'v.vtt')).toEqual([
      { start: 62.5, end: 64, text: 'hi' },
    ]);
    expect(() => parseSubtitles('1\n00:00:02,000 --> 00:00:01,000\nx\n', 'bad.srt')).toThrow(
      /bad\.srt:2: cannot read the cue times/,
    );
  });
});

describe('placing captions on the cut', () => {
  it('shifts each clip caption by where the clip plays and hands over mid-transition', () => {
    // a plays 1..5, b 4.5..8.5 (a 0.5 s transition), after a 1 s card.
    const clips = [
      { id: 'a', start: 1, end: 5 },
      { id: 'b', start: 4.5, end: 8.5 },
    ];
    const cues = placeCues(
      clips,
      {
        a: [{ text: 'A' }],
        b: [
          { text: 'B1', end: 1 },
          { text: 'B2', start: 1 },
        ],
      },
      [],
      8.5,
    );
    expect(cues).toEqual([
      { start: 1, end: 4.75, text: 'A' },
      { start: 4.75, end: 5.5, text: 'B1' },
      { start: 5.5, end: 8.5, text: 'B2' },
    ]);
  });

  it('adds the cut-wide cues as they are, cut to the output, never overlapping', () => {
    const cues = placeCues(
      [{ id: 'a', start: 0, end: 4 }],
      { a: [{ text: 'A', start: 1, end: 3 }] },
      [
        { start: 2, end: 5, text: 'file' },
        { start: 3.5, end: 9, text: 'late' },
      ],
      4,
    );
    expect(cues).toEqual([
      { start: 1, end: 2, text: 'A' },
      { start: 2, end: 3.5, text: 'file' },
      { start: 3.5, end: 4, text: 'late' },
    ]);
  });
});

describe('drawtext', () => {
  it("escapes option values for both of ffmpeg's parsers", () => {
    expect(filterValue("/a b/it's:[x],y;z\\w")).toBe(
      "/a b/it\\\\\\'s\\\\:\\[x\\]\\,y\\;z\\\\\\\\w",
    );
  });

  it('reads the text from a file with expansion off, shown only during its cue', () => {
    const f = drawtextFilter({
      textFile: '/t/cap-0.txt',
      fontFile: '/f/font.ttc',
      fontSize: 9,
      color: '#ffffff',
      outline: 1,
      position: 'bottom',
      margin: 9,
      enable: { start: 1, end: 2.5 },
    });
    expect(f).toContain('textfile=/t/cap-0.txt:expansion=none');
    expect(f).toContain('y=h-text_h-9');
    expect(f).toContain('enable=gte(t\\,1)*lt(t\\,2.5)');
  });

  it('tells CJK text from other text', () => {
    expect(hasCjk('你好')).toBe(true);
    expect(hasCjk('こんにちは')).toBe(true);
    expect(hasCjk('안녕')).toBe(true);
    expect(hasCjk("it's 100% [ok]")).toBe(false);
  });

  it("shows a cast mention as the member's name", () => {
    expect(captionText('@mimi jumps, @nobody stays', { mimi: {} })).toBe(
      'mimi jumps, @nobody stays',
    );
  });
});

describe('cards in the plan', () => {
  it('orders cards at the start, before and after shots, and at the end', () => {
    const cards = [
      card({ at: 'end' }),
      card({ at: { after: 'a' } }),
      card({ at: 'start' }),
      card({ at: { before: 'a' } }),
    ];
    expect(cutParts(['a', 'b'], cards)).toEqual([
      { kind: 'card', index: 2 },
      { kind: 'card', index: 3 },
      { kind: 'clip', index: 0 },
      { kind: 'card', index: 1 },
      { kind: 'clip', index: 1 },
      { kind: 'card', index: 0 },
    ]);
    expect(() => cutParts(['a'], [card({ at: { before: 'zz' } })])).toThrow(/shot zz/);
  });

  it('puts a card on the timeline, lengthens the cut, and makes the joins beside it cuts', () => {
    const o = options({
      transition: { type: 'fade', duration: 0.5 },
      cards: [{ ...card({ at: { before: 'b' } }), font: '/f/font.ttc' } as CardOptions],
    });
    const plan = planStitch(o, [clipProbe('/c/a.mp4'), clipProbe('/c/b.mp4')], {
      features: MODERN,
      outputFile: '/out/tmp.mp4',
    });
    expect(plan.path).toBe('normalise');
    expect(plan.expectedDurationSec).toBe(9);
    expect(plan.timeline.map((t) => [t.kind, t.index, t.start, t.end])).toEqual([
      ['clip', 0, 0, 4],
      ['card', 0, 4, 5],
      ['clip', 1, 5, 9],
    ]);
    const graph = plan.args[plan.args.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('color=c=0x00ff00:s=320x180:r=24/1:d=1');
    expect(graph).not.toContain('xfade');
    expect(plan.files).toEqual([{ path: '/out/tmp.mp4.card-0-0.txt', content: 'Title' }]);
  });

  it('copies streams with no layer, and says why not with one', () => {
    const probes = [clipProbe('/c/a.mp4'), clipProbe('/c/b.mp4')];
    const plain = options({ audio: 'keep' });
    expect(copyBlocker(plain, probes)).toBeNull();
    expect(copyBlocker({ ...plain, cards: [card()] }, probes)).toBe('a card is added');
    const captions = { clips: {}, burn: false, style: DEFAULT_CAPTION_STYLE };
    expect(copyBlocker({ ...plain, captions }, probes)).toBe('captions are added');
  });

  it('adds the cues as a mov_text track with its language, read from a written SRT', () => {
    const o = options({
      captions: {
        clips: { b: [{ text: 'hello' }] },
        burn: false,
        language: 'eng',
        style: DEFAULT_CAPTION_STYLE,
      },
    });
    const plan = planStitch(o, [clipProbe('/c/a.mp4'), clipProbe('/c/b.mp4')], {
      features: MODERN,
      outputFile: '/out/tmp.mp4',
    });
    expect(plan.cues).toEqual([{ start: 4, end: 8, text: 'hello' }]);
    expect(plan.args.join(' ')).toContain('-f srt -i /out/tmp.mp4.captions.srt -filter_complex');
    expect(plan.args.join(' ')).toContain('-map 2:s:0 -c:s mov_text -metadata:s:s:0 language=eng');
    expect(plan.files?.[0]?.content).toBe(writeSrt(plan.cues!));
  });

  it('names the missing filter when this ffmpeg cannot draw text', () => {
    const o = options({ cards: [card()] });
    expect(() =>
      planStitch(o, [clipProbe('/c/a.mp4'), clipProbe('/c/b.mp4')], {
        features: { filters: new Set(['xfade']) },
      }),
    ).toThrow(/no drawtext filter/);
  });
});

describe('captions and cards per variant', () => {
  const shots = [
    { id: 'a', caption: 'hello @mimi' },
    { id: 'b', caption: [{ text: 'one', end: 1 }] },
    { id: 'c' },
  ] as unknown as PlannedShot[];
  const spec: Stitch = {
    captions: { burn: ['vertical'], style: { font: 'fonts/x.ttf', box: true }, file: 'subs.vtt' },
    cards: [
      { text: 'All', duration: 1 },
      {
        text: 'Wide only',
        duration: 2,
        at: 'end',
        variants: ['wide'],
        background: { image: 'art/w.png' },
      },
    ],
  };

  it('burns only in the listed variants and keeps cards of their variants, files resolved', () => {
    const wide = layerOptions(spec, shots, 'wide', '/m', { mimi: {} });
    const vertical = layerOptions(spec, shots, 'vertical', '/m', { mimi: {} });
    expect(wide.captions?.burn).toBe(false);
    expect(vertical.captions?.burn).toBe(true);
    expect(wide.captions?.clips).toEqual({
      a: [{ text: 'hello mimi' }],
      b: [{ text: 'one', end: 1 }],
    });
    expect(wide.captions?.style).toMatchObject({ font: '/m/fonts/x.ttf', box: true, size: 0.05 });
    expect(wide.cards?.map((c) => c.text)).toEqual(['All', 'Wide only']);
    expect(vertical.cards?.map((c) => [c.text, c.at, c.background])).toEqual([
      ['All', 'start', { color: '#000000' }],
    ]);
    expect(captionFiles(wide)).toEqual(['/m/fonts/x.ttf', '/m/subs.vtt', '/m/art/w.png']);
  });

  it('adds nothing to a stitch without captions or cards', () => {
    expect(layerOptions({}, [{ id: 'a' }] as unknown as PlannedShot[], null, '/m')).toEqual({});
  });
});

describe('wrapText: drawn text fits the frame', () => {
  it('breaks Latin text at spaces within the width', () => {
    // 20 px font, 130 px wide: 6.5 em a line (capitals 0.7, spaces 0.32, the rest 0.55).
    const out = wrapText('The garden wakes before we do', 20, 130);
    expect(out).toBe('The garden\nwakes before\nwe do');
    // "A Cat's Day" is 6.04 em: one line at 7 em, two at 5.
    expect(wrapText("A Cat's Day", 10, 70)).toBe("A Cat's Day");
    expect(wrapText("A Cat's Day", 10, 50)).toBe("A Cat's\nDay");
  });

  it('breaks CJK between characters, keeps line breaks, cuts a word longer than a line', () => {
    expect(wrapText('清晨花园比我们醒得更早', 10, 45)).toBe('清晨花园\n比我们醒\n得更早');
    expect(wrapText('一二\nab', 10, 100)).toBe('一二\nab');
    expect(wrapText('abcdefghij', 10, 30)).toBe('abcde\nfghij');
  });

  it('leaves text that fits as it is', () => {
    expect(wrapText('下雨了 / It is raining', 40, 1000)).toBe('下雨了 / It is raining');
  });
});

describe('drawtextLines: each line centred, the block placed as asked', () => {
  const look = {
    fontFile: '/f.ttf',
    fontSize: 50,
    color: '#ffffff',
    outline: 0,
    position: 'bottom' as const,
    margin: 20,
  };
  it('draws one centred drawtext a line, stacked up from the bottom margin', () => {
    const { filters, files } = drawtextLines(look, 'one\ntwo', (i) => `/t/line-${i}.txt`);
    expect(files).toEqual([
      { path: '/t/line-0.txt', content: 'one' },
      { path: '/t/line-1.txt', content: 'two' },
    ]);
    expect(filters).toHaveLength(2);
    for (const f of filters) expect(f).toContain(':x=(w-text_w)/2:');
    // Lines 60 px apart (50 + a gap of 10), the block 110 px high ending 20 px above the bottom.
    expect(filters[0]).toMatch(/:y=h-130$/);
    expect(filters[1]).toMatch(/:y=h-70$/);
  });

  it('centres the block in the middle and stacks down from the top', () => {
    const mid = drawtextLines({ ...look, position: 'middle' }, 'a\nb', (i) => `${i}`);
    expect(mid.filters[0]).toMatch(/:y=\(h-110\)\/2\+0$/);
    expect(mid.filters[1]).toMatch(/:y=\(h-110\)\/2\+60$/);
    const top = drawtextLines({ ...look, position: 'top' }, 'a\nb', (i) => `${i}`);
    expect(top.filters[1]).toMatch(/:y=80$/);
  });
});
