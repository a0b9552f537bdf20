import { describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors.js';
import type { ProbeResult } from '../../src/media/probe.js';
import {
  buildConcatList,
  copyBlocker,
  fitFilters,
  num,
  planStitch,
  quoteConcatPath,
  TRANSITION_TYPES,
  XFADE_TRANSITIONS,
  type StitchOptions,
} from '../../src/media/stitch-plan.js';

const MODERN = {
  filters: new Set(['xfade', 'acrossfade', 'concat', 'tpad', 'anullsrc', 'amix', 'afade']),
  encoders: new Set(['libx264', 'aac']),
  version: '5.1.6',
  path: '/usr/bin/ffmpeg',
};
const OLD = {
  filters: new Set(['acrossfade', 'concat', 'anullsrc', 'amix', 'afade']),
  encoders: new Set(['libx264', 'aac']),
  version: 'N-47683-g0e8eb07980-static',
  path: '/x/ffmpeg',
};

function clip(
  file: string,
  over: Partial<ProbeResult> & { seconds?: number; noAudio?: boolean } = {},
): ProbeResult {
  const seconds = over.seconds ?? 5;
  const info: ProbeResult = {
    file,
    durationSec: seconds,
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    video: {
      codec: 'h264',
      width: 1280,
      height: 720,
      pixFmt: 'yuv420p',
      frameRate: '24/1',
      fps: 24,
      timeBase: '1/12288',
      sampleAspectRatio: '1:1',
      durationSec: seconds,
    },
    audio: over.noAudio
      ? undefined
      : {
          codec: 'aac',
          channels: 2,
          channelLayout: 'stereo',
          sampleRate: 48000,
          durationSec: seconds,
        },
  };
  if (over.video) info.video = { ...info.video!, ...over.video };
  return info;
}

function opts(files: string[], over: Partial<StitchOptions> = {}): StitchOptions {
  return {
    output: '/out/final.mp4',
    clips: files.map((file, i) => ({ file, id: `s${i + 1}` })),
    transition: { type: 'cut', duration: 0 },
    audio: 'keep',
    size: { width: 1280, height: 720 },
    fit: 'pad',
    crf: 20,
    preset: 'veryfast',
    ...over,
  };
}

function graphOf(args: string[]): string {
  const i = args.indexOf('-filter_complex');
  expect(i).toBeGreaterThan(-1);
  return args[i + 1]!;
}

function after(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

const three = ['/c/a.mp4', '/c/b.mp4', '/c/c.mp4'];
const probes3 = three.map((f) => clip(f));

describe('transition names', () => {
  it('lists cut and the xfade names', () => {
    expect(TRANSITION_TYPES[0]).toBe('cut');
    expect(XFADE_TRANSITIONS).toContain('fade');
    expect(XFADE_TRANSITIONS).toContain('dissolve');
    expect(XFADE_TRANSITIONS).toContain('circleopen');
    expect(new Set(TRANSITION_TYPES).size).toBe(TRANSITION_TYPES.length);
  });
});

describe('concat list quoting', () => {
  it('quotes plain, spaced, quoted and non-ASCII paths', () => {
    expect(quoteConcatPath('/a/b.mp4')).toBe(`'/a/b.mp4'`);
    expect(quoteConcatPath('/a/my clip.mp4')).toBe(`'/a/my clip.mp4'`);
    expect(quoteConcatPath(`/a/it's.mp4`)).toBe(`'/a/it'\\''s.mp4'`);
    expect(quoteConcatPath('/a/橘猫 é.mp4')).toBe(`'/a/橘猫 é.mp4'`);
    expect(quoteConcatPath('/a/back\\slash.mp4')).toBe(`'/a/back\\slash.mp4'`);
  });
  it('refuses line breaks, which the list format cannot hold', () => {
    expect(() => quoteConcatPath('/a/b\nc.mp4')).toThrow(MediaError);
  });
  it('writes absolute paths, one file line each', () => {
    const list = buildConcatList(['/a/1.mp4', `/a/2 it's.mp4`]);
    expect(list).toBe(`ffconcat version 1.0\nfile '/a/1.mp4'\nfile '/a/2 it'\\''s.mp4'\n`);
  });
});

describe('copy path', () => {
  it('is chosen when every clip matches and nothing asks for a re-encode', () => {
    const plan = planStitch(opts(three), probes3, {
      features: MODERN,
      outputFile: '/out/.tmp.mp4',
      listFile: '/out/list.txt',
    });
    expect(plan.path).toBe('copy');
    expect(plan.args).toEqual([
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-progress',
      'pipe:1',
      '-nostats',
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      '/out/list.txt',
      '-map',
      '0:v:0',
      '-map',
      '0:a:0',
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      '/out/.tmp.mp4',
    ]);
    expect(plan.concatList).toBe(buildConcatList(three));
    expect(plan.expectedDurationSec).toBe(15);
    expect(plan.warnings).toEqual([]);
    expect(plan.args).not.toContain('-filter_complex');
  });

  it('allows one AAC frame per clip with audio in the duration check, none without audio', () => {
    const withAudio = planStitch(opts(three), probes3, { features: MODERN });
    const rate = probes3[0]!.audio!.sampleRate;
    expect(withAudio.toleranceSec).toBeCloseTo(2 / withAudio.fps + (3 * 1024) / rate, 6);
    const silent = three.map((f) => clip(f, { noAudio: true }));
    const noAudio = planStitch(opts(three), silent, { features: MODERN });
    expect(noAudio.toleranceSec).toBeCloseTo(2 / noAudio.fps, 6);
  });

  it('maps no audio when no clip has any', () => {
    const probes = three.map((f) => clip(f, { noAudio: true }));
    const plan = planStitch(opts(three), probes, { features: MODERN });
    expect(plan.path).toBe('copy');
    expect(plan.args).not.toContain('0:a:0');
  });

  it('is refused for each difference, with the reason', () => {
    const cases: [string, ProbeResult[], Partial<StitchOptions>][] = [
      ['codec', [clip('a'), clip('b', { video: { codec: 'hevc' } as never })], {}],
      ['size', [clip('a'), clip('b', { video: { width: 720, height: 1280 } as never })], {}],
      ['pixel format', [clip('a'), clip('b', { video: { pixFmt: 'yuv444p' } as never })], {}],
      [
        'frame rate',
        [clip('a'), clip('b', { video: { frameRate: '25/1', fps: 25 } as never })],
        {},
      ],
      ['time base', [clip('a'), clip('b', { video: { timeBase: '1/90000' } as never })], {}],
      ['audio', [clip('a'), clip('b', { noAudio: true })], {}],
      ['output size', [clip('a'), clip('b')], { size: { width: 854, height: 480 } }],
      ['transition', [clip('a'), clip('b')], { transition: { type: 'fade', duration: 0.5 } }],
      ['muted', [clip('a'), clip('b')], { audio: 'mute' }],
      [
        'soundtrack',
        [clip('a'), clip('b')],
        { soundtrack: { file: '/m.mp3', volume: 1, fadeOut: 1, mode: 'replace' } },
      ],
    ];
    for (const [why, probes, over] of cases) {
      const o = opts(['a', 'b'], over);
      expect(copyBlocker(o, probes), why).toMatch(new RegExp(why.split(' ')[0]!));
      expect(planStitch(o, probes, { features: MODERN }).path, why).toBe('normalise');
    }
    const trimmed = opts(['a', 'b']);
    trimmed.clips[0]!.trim = { start: 1 };
    expect(copyBlocker(trimmed, [clip('a'), clip('b')])).toMatch(/trim/);
  });

  it('ignores a per-clip transition on the last clip', () => {
    const o = opts(three);
    o.clips[2]!.transition = { type: 'fade', duration: 1 };
    expect(planStitch(o, probes3, { features: MODERN }).path).toBe('copy');
  });
});

describe('normalise path', () => {
  const mixed = [
    clip('/c/wide.mp4', { seconds: 5 }),
    clip('/c/tall.mp4', {
      seconds: 4,
      noAudio: true,
      video: { width: 720, height: 1280 } as never,
    }),
    clip('/c/wide2.mp4', { seconds: 6 }),
  ];
  const files = mixed.map((p) => p.file);

  it('concatenates with hard cuts in one filtergraph, silence where a clip has no audio', () => {
    const plan = planStitch(opts(files), mixed, { features: MODERN, outputFile: '/out/tmp.mp4' });
    expect(plan.path).toBe('normalise');
    expect(plan.expectedDurationSec).toBe(15);
    const g = graphOf(plan.args);
    expect(g).toContain(
      '[0:v:0]fps=24/1,trim=start=0:end=5,setpts=PTS-STARTPTS,scale=1280:720,setsar=1,format=yuv420p,settb=AVTB[v0]',
    );
    // 720x1280 into 1280x720: 404x720 (even) centred in black bars.
    expect(g).toContain('scale=404:720,pad=1280:720:438:0:color=black,setsar=1');
    expect(g).toContain(
      '[0:a:0]atrim=start=0:end=5,asetpts=PTS-STARTPTS,aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,apad,atrim=end=5,asetpts=PTS-STARTPTS[a0]',
    );
    expect(g).toContain(
      'anullsrc=channel_layout=stereo:sample_rate=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,atrim=end=4,asetpts=PTS-STARTPTS[a1]',
    );
    expect(g).toContain('[v0][a0][v1][a1][v2][a2]concat=n=3:v=1:a=1[vcat][acat]');
    expect(g).not.toContain('xfade');
    expect(g).not.toContain('tpad');
    const a = plan.args;
    expect(a.filter((x) => x === '-i')).toHaveLength(3);
    expect(after(a, '-map')).toBe('[vcat]');
    expect(a).toContain('[acat]');
    expect(after(a, '-c:v')).toBe('libx264');
    expect(after(a, '-crf')).toBe('20');
    expect(after(a, '-preset')).toBe('veryfast');
    expect(after(a, '-pix_fmt')).toBe('yuv420p');
    expect(after(a, '-c:a')).toBe('aac');
    expect(after(a, '-movflags')).toBe('+faststart');
    expect(a.at(-1)).toBe('/out/tmp.mp4');
  });

  it('crops instead of padding when asked', () => {
    const plan = planStitch(opts(files, { fit: 'crop' }), mixed, { features: MODERN });
    const g = graphOf(plan.args);
    // 720x1280 filling 1280x720: scaled to 1280x2276, the middle 720 rows kept.
    expect(g).toContain('scale=1280:2276,crop=1280:720:0:778');
    expect(g).not.toContain('pad=');
  });

  it('chains xfade and acrossfade with offsets from the probed durations', () => {
    const plan = planStitch(opts(files, { transition: { type: 'fade', duration: 0.5 } }), mixed, {
      features: MODERN,
    });
    const g = graphOf(plan.args);
    expect(g).toContain('[v0][v1]xfade=transition=fade:duration=0.5:offset=4.5[vj1]');
    expect(g).toContain('[a0][a1]acrossfade=d=0.5:c1=tri:c2=tri[aj1]');
    // 5 + 4 - 0.5 - 0.5
    expect(g).toContain('[vj1][v2]xfade=transition=fade:duration=0.5:offset=8[vj2]');
    expect(g).toContain('[aj1][a2]acrossfade=d=0.5:c1=tri:c2=tri[aj2]');
    expect(g).toContain('format=yuv420p,tpad=stop_mode=clone:stop=1,trim=end=4,settb=AVTB[v1]');
    expect(plan.args).toContain('[vj2]');
    expect(plan.args).toContain('[aj2]');
    expect(plan.expectedDurationSec).toBe(14);
    expect(plan.warnings).toEqual([]);
  });

  it('mixes per-clip transitions and cuts', () => {
    const o = opts(files, { transition: { type: 'fade', duration: 0.5 } });
    o.clips[0]!.transition = { type: 'cut', duration: 0 };
    o.clips[1]!.transition = { type: 'wipeleft', duration: 1 };
    const plan = planStitch(o, mixed, { features: MODERN });
    const g = graphOf(plan.args);
    expect(g).toContain('[v0][a0][v1][a1]concat=n=2:v=1:a=1[vj1][aj1]');
    expect(g).toContain('[vj1][v2]xfade=transition=wipeleft:duration=1:offset=8[vj2]');
    expect(plan.expectedDurationSec).toBe(14);
  });

  it('says where each clip plays in the cut, transitions overlapping their neighbours', () => {
    const o = opts(files, { transition: { type: 'fade', duration: 0.5 } });
    o.clips[0]!.transition = { type: 'cut', duration: 0 };
    o.clips[1]!.transition = { type: 'wipeleft', duration: 1 };
    const plan = planStitch(o, mixed, { features: MODERN });
    expect(plan.timeline.map((t) => [t.index, t.start, t.end])).toEqual([
      [0, 0, 5],
      [1, 5, 9],
      [2, 8, 14],
    ]);
    expect(plan.timeline.at(-1)!.end).toBe(plan.expectedDurationSec);
  });

  it('falls back to hard cuts without xfade, and says which filter is missing and how to get it', () => {
    const plan = planStitch(
      opts(files, { transition: { type: 'dissolve', duration: 0.5 } }),
      mixed,
      {
        features: OLD,
      },
    );
    const g = graphOf(plan.args);
    expect(g).not.toContain('xfade');
    expect(g).not.toContain('acrossfade');
    expect(g).toContain('concat=n=3:v=1:a=1');
    expect(plan.expectedDurationSec).toBe(15);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toContain('no xfade filter');
    expect(plan.warnings[0]).toContain('dissolve');
    expect(plan.warnings[0]).toContain('hard cuts');
    expect(plan.warnings[0]).toContain('install ffmpeg >= 4.3 (Debian: apt-get install ffmpeg)');
    expect(plan.warnings[0]).toContain('FFMPEG_PATH');
    expect(plan.warnings[0]).toContain('/x/ffmpeg');
  });

  it('mutes: no audio chains, no audio stream', () => {
    const plan = planStitch(opts(files, { audio: 'mute' }), mixed, { features: MODERN });
    const g = graphOf(plan.args);
    expect(g).not.toContain('[0:a:0]');
    expect(g).not.toContain('anullsrc');
    expect(g).toContain('[v0][v1][v2]concat=n=3:v=1:a=0[vcat]');
    expect(plan.args).toContain('-an');
    expect(plan.args).not.toContain('-c:a');
  });

  it('trims with trim/atrim and counts only what is kept', () => {
    const o = opts(files, { transition: { type: 'fade', duration: 0.5 } });
    o.clips[0]!.trim = { start: 1, end: 4 };
    o.clips[2]!.trim = { start: 2 };
    const plan = planStitch(o, mixed, { features: MODERN });
    const g = graphOf(plan.args);
    expect(g).toContain('[0:v:0]fps=24/1,trim=start=1:end=4,setpts=PTS-STARTPTS');
    expect(g).toContain('[0:a:0]atrim=start=1:end=4,asetpts=PTS-STARTPTS');
    expect(g).toContain('[2:v:0]fps=24/1,trim=start=2:end=6,setpts=PTS-STARTPTS');
    expect(g).toContain('offset=2.5[vj1]'); // 3 - 0.5
    expect(g).toContain('offset=6[vj2]'); // 3 + 4 - 0.5 - 0.5
    expect(plan.expectedDurationSec).toBe(10); // 3 + 4 + 4 - 1
  });

  it('rejects a trim outside the clip and a transition longer than its clips', () => {
    const bad = opts(files);
    bad.clips[0]!.trim = { start: 4, end: 9 };
    expect(() => planStitch(bad, mixed, { features: MODERN })).toThrow(/trim of s1/);
    const long = opts(files, { transition: { type: 'fade', duration: 2.5 } });
    expect(() => planStitch(long, mixed, { features: MODERN })).toThrow(/transitions take 5 s/);
    try {
      planStitch(long, mixed, { features: MODERN });
    } catch (e) {
      expect((e as MediaError).code).toBe('stitch_invalid');
      expect((e as MediaError).fix).toMatch(/shorten/);
    }
  });

  it('mixes a soundtrack under the clips, trimmed to the video and faded out', () => {
    const o = opts(files, {
      transition: { type: 'fade', duration: 0.5 },
      soundtrack: { file: 'https://example.com/m.mp3', volume: 0.3, fadeOut: 2, mode: 'mix' },
    });
    const plan = planStitch(o, mixed, { features: MODERN });
    const g = graphOf(plan.args);
    expect(plan.args.filter((x) => x === '-i')).toHaveLength(4);
    expect(after(plan.args.slice(plan.args.indexOf('/c/wide2.mp4')), '-i')).toBe(
      'https://example.com/m.mp3',
    );
    expect(g).toContain(
      '[3:a:0]asetpts=PTS-STARTPTS,aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,volume=0.3,apad,atrim=end=14,afade=t=out:st=12:d=2[st]',
    );
    expect(g).toContain(
      '[aj2][st]amix=inputs=2:duration=first:dropout_transition=0,volume=2[amix]',
    );
    expect(plan.args).toContain('[amix]');
  });

  it('replaces the clips audio with a soundtrack', () => {
    const o = opts(files, {
      soundtrack: { file: '/m/song.mp3', volume: 1, fadeOut: 0, mode: 'replace' },
    });
    const plan = planStitch(o, mixed, { features: MODERN });
    const g = graphOf(plan.args);
    expect(g).not.toContain('[0:a:0]');
    expect(g).not.toContain('amix');
    expect(g).not.toContain('afade');
    expect(g).toContain('[v0][v1][v2]concat=n=3:v=1:a=0[vcat]');
    expect(g).toContain('volume=1,apad,atrim=end=15[st]');
    expect(plan.args).toContain('[st]');
  });

  it('rounds an odd output size down to even, with a warning', () => {
    const plan = planStitch(opts(files, { size: { width: 641, height: 361 } }), mixed, {
      features: MODERN,
    });
    expect(graphOf(plan.args)).toContain('pad=640:360');
    expect(plan.warnings.join()).toMatch(/641x361 became 640x360/);
  });

  it('uses the asked frame rate', () => {
    const plan = planStitch(opts(files, { fps: 30 }), mixed, { features: MODERN });
    expect(graphOf(plan.args)).toContain('[0:v:0]fps=30,');
    expect(plan.fps).toBe(30);
  });

  it('refuses an ffmpeg without libx264, saying how to get one', () => {
    expect(() =>
      planStitch(opts(files), mixed, { features: { ...MODERN, encoders: new Set(['aac']) } }),
    ).toThrow(/libx264/);
  });
});

describe('helpers', () => {
  it('formats numbers without float noise', () => {
    expect(num(4.499999999999)).toBe('4.5');
    expect(num(8)).toBe('8');
    expect(num(0.1 + 0.2)).toBe('0.3');
  });
  it('fits a non-square-pixel clip by its display aspect', () => {
    const anamorphic = clip('x', {
      video: { width: 720, height: 576, sampleAspectRatio: '64:45' } as never,
    });
    expect(fitFilters(anamorphic, 1280, 720, 'pad')[0]).toBe('scale=1280:720');
  });
});
