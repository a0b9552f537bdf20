import { describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors.js';
import type { Stitch } from '../../src/manifest/types.gen.js';
import {
  logoOptions,
  overlayLayers,
  overlayPosition,
  type Overlay,
} from '../../src/media/overlay.js';
import type { ProbeResult } from '../../src/media/probe.js';
import { copyBlocker, planStitch, type StitchOptions } from '../../src/media/stitch-plan.js';
import {
  soundLayers,
  soundtrackFit,
  voiceOptions,
  voiceStart,
  type Voiceover,
} from '../../src/media/voice.js';

const FEATURES = {
  filters: new Set([
    ...['concat', 'anullsrc', 'amix', 'afade', 'overlay', 'colorchannelmixer'],
    ...['adelay', 'asplit', 'sidechaincompress', 'atempo'],
  ]),
  encoders: new Set(['libx264', 'aac']),
  version: '5.1.6',
  path: '/usr/bin/ffmpeg',
};

function clip(file: string, seconds = 4): ProbeResult {
  return {
    file,
    durationSec: seconds,
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    video: {
      codec: 'h264',
      ...{ width: 320, height: 180, pixFmt: 'yuv420p', frameRate: '24/1', fps: 24 },
      ...{ timeBase: '1/12288', sampleAspectRatio: '1:1', durationSec: seconds },
    },
  };
}

function options(over: Partial<StitchOptions> = {}): StitchOptions {
  return {
    output: '/out/final.mp4',
    clips: [
      { file: '/c/a.mp4', id: 'a' },
      { file: '/c/b.mp4', id: 'b', trim: { start: 1 } },
    ],
    transition: { type: 'cut', duration: 0 },
    audio: 'keep',
    size: { width: 320, height: 180 },
    fit: 'pad',
    crf: 20,
    preset: 'veryfast',
    ...over,
  };
}

const voice = (where: Voiceover['where'], file = '/m/v.wav'): Voiceover => ({
  file,
  where,
  volume: 1,
});

describe('voiceStart', () => {
  it('finds a shot voice-over by its clip among other timeline items, and a cut one as is', () => {
    const timeline = [
      { kind: 'card', start: 0 },
      { kind: 'clip', index: 0, start: 2 },
      { kind: 'clip', index: 1, start: 5.5 },
    ];
    expect(voiceStart(voice({ clip: 1, offset: 0.25 }), timeline)).toBe(5.75);
    expect(voiceStart(voice({ cut: 3 }), timeline)).toBe(3);
    expect(voiceStart(voice({ clip: 4, offset: 0 }), timeline)).toBeUndefined();
  });
});

describe('soundtrackFit', () => {
  it('loops with -stream_loop, stretches with atempo within 0.8-1.25, and says when it cannot', () => {
    expect(soundtrackFit('loop', 8, undefined, [])).toEqual({
      input: ['-stream_loop', '-1'],
      filters: [],
    });
    expect(soundtrackFit('none', 8, 2, [])).toEqual({ input: [], filters: [] });
    const warnings: string[] = [];
    expect(soundtrackFit('stretch_end', 10, 9, warnings).filters).toEqual(['atempo=0.9']);
    expect(soundtrackFit('stretch_end', 10, 11, warnings).filters).toEqual(['atempo=1.1']);
    expect(warnings).toEqual([]);
    expect(soundtrackFit('stretch_end', 10, 4, warnings).filters).toEqual(['atempo=0.8']);
    expect(warnings[0]).toMatch(/lasts 4 s and the cut 10 s.*ends early/);
    expect(soundtrackFit('stretch_end', 10, 20, warnings).filters).toEqual(['atempo=1.25']);
    expect(warnings[1]).toMatch(/is cut off at the end/);
    expect(soundtrackFit('stretch_end', 10, undefined, warnings).filters).toEqual([]);
    expect(warnings[2]).toMatch(/could not be measured/);
  });
});

describe('soundLayers', () => {
  const timeline = [
    { kind: 'clip', index: 0, start: 0 },
    { kind: 'clip', index: 1, start: 4 },
  ];
  it('delays each voice to its place, ducks the music by the amount and mixes at full level', () => {
    const r = soundLayers({
      voices: [voice({ clip: 1, offset: 1.5 }, '/m/a.wav'), voice({ cut: 0.02 }, '/m/b.wav')],
      timeline,
      firstInput: 3,
      length: 7,
      clipAudio: 'acat',
      soundtrack: 'st',
      duck: { voice: true, dialogue: false, amount: 12 },
    });
    expect(r.inputs).toEqual(['-i', '/m/a.wav', '-i', '/m/b.wav']);
    expect(r.graph[0]).toMatch(/^\[3:a:0\].*adelay=5500\|5500,apad,atrim=end=7\[vo0\]$/);
    expect(r.graph[1]).toMatch(/^\[4:a:0\].*adelay=20\|20,/);
    const graph = r.graph.join(';');
    // 12 dB: 10^(-12/20) = 0.251189 of the dry music stays.
    // Both inputs in one format first (older ffmpeg cannot choose one for the compressor).
    expect(graph).toContain(
      '[st]aformat=sample_fmts=dbl:sample_rates=48000:channel_layouts=stereo[duckin]',
    );
    expect(graph).toContain(
      '[vosc]aformat=sample_fmts=dbl:sample_rates=48000:channel_layouts=stereo[duckkey]',
    );
    expect(graph).toContain('[duckin][duckkey]sidechaincompress=');
    expect(graph).toContain('mix=0.748811');
    expect(graph).toContain(
      '[acat][ducked][vomix]amix=inputs=3:duration=first:dropout_transition=0,volume=3[aout]',
    );
    expect(r.audio).toBe('aout');
  });

  it('ducks under dialogue too when asked, and not at all under voice when voice is false', () => {
    const both = soundLayers({
      voices: [voice({ cut: 0 })],
      ...{ timeline, firstInput: 2, length: 7, clipAudio: 'acat', soundtrack: 'st' },
      duck: { voice: true, dialogue: true, amount: 6 },
    }).graph.join(';');
    expect(both).toContain('[vosc][clipsc]amix=inputs=2');
    expect(both).toContain(
      '[sc]aformat=sample_fmts=dbl:sample_rates=48000:channel_layouts=stereo[duckkey]',
    );
    expect(both).toContain('[duckin][duckkey]sidechaincompress=');
    const none = soundLayers({
      voices: [voice({ cut: 0 })],
      ...{ timeline, firstInput: 2, length: 7, clipAudio: null, soundtrack: 'st' },
      duck: { voice: false, dialogue: false, amount: 6 },
    });
    expect(none.graph.join(';')).not.toContain('sidechaincompress');
    expect(none.graph.at(-1)).toContain('[st][vo0]amix=inputs=2');
  });
});

describe('overlays', () => {
  const base: Overlay = {
    file: '/m/logo.png',
    corner: 'top-left',
    width: 0.15,
    margin: 0.05,
    opacity: 1,
  };
  it('places each corner by its margin (a share of the width) and a point by shares of the frame', () => {
    const frame = { width: 320, height: 180 };
    expect(overlayPosition(base, frame)).toBe('x=16:y=16');
    expect(overlayPosition({ ...base, corner: 'bottom-right' }, frame)).toBe('x=W-w-16:y=H-h-16');
    expect(overlayPosition({ ...base, at: { x: 0.5, y: 0.25 } }, frame)).toBe('x=160:y=45');
  });
  it('scales the image once to its share of the width, with opacity and a time range', () => {
    const r = overlayLayers(
      [
        { ...base, opacity: 0.5, start: 1, end: 2.5 },
        { ...base, corner: 'top-right' },
      ],
      'vcat',
      3,
      { width: 320, height: 180 },
    );
    expect(r.inputs).toEqual(['-i', '/m/logo.png', '-i', '/m/logo.png']);
    expect(r.graph[0]).toBe('[3:v:0]scale=48:-1,format=rgba,colorchannelmixer=aa=0.5[logo0]');
    expect(r.graph[1]).toBe("[vcat][logo0]overlay=x=16:y=16:enable='between(t,1,2.5)'[vlogo0]");
    expect(r.graph[3]).toBe('[vlogo0][logo1]overlay=x=W-w-16:y=16[vlogo1]');
    expect(r.video).toBe('vlogo1');
  });
});

describe('from the manifest to the options', () => {
  it('resolves files against the manifest folder and keeps items of other variants out', () => {
    const spec: Stitch = {
      logo: [{ file: 'l.png' }, { file: 'w.png', variants: ['wide'] }],
      voiceover: { file: 'all.wav', offset: 2 },
      soundtrack: { file: 's.wav', fit: 'loop', duck: { amount: 9 } },
    };
    const shots = [{}, { voiceover: { file: 'v.wav', offset: 1, variants: ['tall'] as [string] } }];
    expect(voiceOptions(spec, shots, 'wide', '/m')).toEqual({
      voiceovers: [{ file: '/m/all.wav', where: { cut: 2 }, volume: 1 }],
      duck: { voice: true, dialogue: false, amount: 9 },
      fit: 'loop',
    });
    expect(voiceOptions(spec, shots, 'tall', '/m').voiceovers?.[0]).toEqual({
      file: '/m/v.wav',
      where: { clip: 1, offset: 1 },
      volume: 1,
    });
    expect(logoOptions(spec, 'tall', '/m').logo?.map((o) => o.file)).toEqual(['/m/l.png']);
    expect(logoOptions(spec, 'wide', '/m').logo).toHaveLength(2);
    expect(voiceOptions({}, [{}], null, '/m')).toEqual({});
    expect(logoOptions({}, null, '/m')).toEqual({});
  });
});

describe('planStitch with layers', () => {
  const probes = [clip('/c/a.mp4'), clip('/c/b.mp4')];
  it('re-encodes, places the voice after the soundtrack input and the logo after the voices', () => {
    const o = options({
      audio: 'mute',
      soundtrack: { file: '/m/s.wav', volume: 0.3, fadeOut: 0, mode: 'mix', fit: 'loop' },
      voiceovers: [voice({ clip: 1, offset: 0.5 })],
      logo: [{ file: '/m/l.png', corner: 'top-right', width: 0.2, margin: 0, opacity: 1 }],
    });
    const plain = { ...o, clips: [o.clips[0]!], audio: 'keep' as const, soundtrack: undefined };
    expect(copyBlocker({ ...plain, voiceovers: undefined }, probes)).toBe('a logo is laid over');
    expect(copyBlocker({ ...plain, logo: undefined }, probes)).toBe('a voice-over is added');
    expect(copyBlocker({ ...plain, logo: undefined, voiceovers: undefined }, probes)).toBeNull();
    const plan = planStitch(o, probes, { features: FEATURES });
    expect(plan.path).toBe('normalise');
    const args = plan.args.join(' ');
    expect(args).toContain('-i /c/b.mp4 -stream_loop -1 -i /m/s.wav -i /m/v.wav -i /m/l.png');
    const graph = plan.args[plan.args.indexOf('-filter_complex') + 1]!;
    // Clip b (trimmed to 3 s) starts at 4 s: the voice at 4.5 s.
    expect(graph).toContain('[3:a:0]asetpts=PTS-STARTPTS');
    expect(graph).toContain('adelay=4500|4500');
    expect(graph).toContain('[4:v:0]scale=64:-1');
    expect(plan.expectedDurationSec).toBeCloseTo(7);
  });

  it('names a filter this ffmpeg lacks instead of failing inside ffmpeg', () => {
    const filters = new Set([...FEATURES.filters].filter((f) => f !== 'sidechaincompress'));
    const o = options({ voiceovers: [voice({ cut: 0 })] });
    expect(() => planStitch(o, probes, { features: { ...FEATURES, filters } })).toThrow(MediaError);
    expect(() => planStitch(o, probes, { features: { ...FEATURES, filters } })).toThrow(
      /has no sidechaincompress filter/,
    );
  });
});
