import { describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors.js';
import {
  ebur128Args,
  loudnormFilter,
  measurePassArgs,
  parseEbur128Summary,
  parseLoudnormJson,
} from '../../src/media/loudness.js';
import { exportJobs, previewJob } from '../../src/media/exports.js';
import type { ProbeResult } from '../../src/media/probe.js';
import { planStitch, type StitchOptions } from '../../src/media/stitch-plan.js';

const LOUDNORM_STDERR = `size=N/A time=00:00:02.00 bitrate=N/A speed= 400x
[Parsed_loudnorm_1 @ 0x5654f35b2a80] 
{
	"input_i" : "-41.75",
	"input_tp" : "-38.06",
	"input_lra" : "0.00",
	"input_thresh" : "-51.75",
	"output_i" : "-14.05",
	"output_tp" : "-10.31",
	"output_lra" : "0.00",
	"output_thresh" : "-24.05",
	"normalization_type" : "linear",
	"target_offset" : "0.05"
}
`;

const EBUR128_STDERR = `[Parsed_ebur128_0 @ 0x55] t: 7.9 TARGET:-23 LUFS M: -14.1 S: -14.0 I: -14.0 LUFS LRA: 0.2 LU FTPK: -12.4 dBFS TPK: -12.3 dBFS
[Parsed_ebur128_0 @ 0x55] Summary:

  Integrated loudness:
    I:         -14.2 LUFS
    Threshold: -24.2 LUFS

  Loudness range:
    LRA:         0.3 LU
    Threshold:   0.0 LUFS
    LRA low:   -14.3 LUFS
    LRA high:  -14.0 LUFS

  True peak:
    Peak:      -12.5 dBFS
`;

describe('loudnorm and ebur128, built and read', () => {
  it('builds the measuring pass and the linear second pass from its findings', () => {
    const target = { target: -14, truePeak: -1 };
    expect(loudnormFilter(target)).toBe('loudnorm=I=-14:TP=-1:LRA=20:print_format=json');
    const measured = parseLoudnormJson(LOUDNORM_STDERR);
    expect(measured).toEqual({ i: -41.75, tp: -38.06, lra: 0, thresh: -51.75, offset: 0.05 });
    expect(loudnormFilter(target, measured)).toBe(
      'loudnorm=I=-14:TP=-1:LRA=20:measured_I=-41.75:measured_TP=-38.06:measured_LRA=0:measured_thresh=-51.75:offset=0.05:linear=true:print_format=summary,aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo',
    );
  });

  it('refuses silence (-inf) and a missing measurement with a clear error', () => {
    const silent = LOUDNORM_STDERR.replace('"-41.75"', '"-inf"');
    expect(() => parseLoudnormJson(silent, 'final.mp4')).toThrow(/silent/);
    expect(() => parseLoudnormJson('nothing here')).toThrow(MediaError);
  });

  it('reads the summary of ebur128, not its running lines', () => {
    expect(parseEbur128Summary(EBUR128_STDERR)).toEqual({
      integrated: -14.2,
      range: 0.3,
      true_peak: -12.5,
    });
    expect(parseEbur128Summary('no summary')).toBeUndefined();
    expect(ebur128Args('/o/f.mp4')).toContain('ebur128=peak=true');
  });

  it('turns a stitch into its measuring pass: same inputs and graph, null output, info log', () => {
    const args = ['-loglevel', 'error', '-i', 'a.mp4', '-filter_complex', 'g', '-map', '[v]'];
    const pass = measurePassArgs([...args, '-c:v', 'libx264', '-crf', '20', 'out.mp4']);
    expect(pass).toEqual(['-loglevel', 'info', ...args.slice(2), '-f', 'null', '-']);
  });
});

function probe(file: string, width = 1280, height = 720): ProbeResult {
  return {
    file,
    durationSec: 4,
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    video: {
      codec: 'h264',
      width,
      height,
      pixFmt: 'yuv420p',
      frameRate: '24/1',
      fps: 24,
      timeBase: '1/12288',
      sampleAspectRatio: '1:1',
      durationSec: 4,
    },
    audio: {
      codec: 'aac',
      channels: 2,
      channelLayout: 'stereo',
      sampleRate: 48000,
      durationSec: 4,
    },
  };
}

const FEATURES = {
  filters: new Set(['concat', 'anullsrc', 'loudnorm', 'ebur128']),
  encoders: new Set(['libx264', 'aac']),
};

const FINAL: StitchOptions = {
  output: '/out/final.wide.mp4',
  clips: [
    { file: '/c/a.mp4', id: 'a' },
    { file: '/c/b.mp4', id: 'b' },
  ],
  transition: { type: 'cut', duration: 0 },
  audio: 'keep',
  size: { width: 1280, height: 720 },
  fit: 'pad',
  crf: 20,
  preset: 'veryfast',
  loudness: { target: -14, truePeak: -1 },
};

describe('deliverables and the preview as stitch jobs', () => {
  it('an export keeps the final layers and changes size, rate, encoding; the plan upscales with lanczos', () => {
    const job = { variant: 'wide', options: FINAL };
    const [tiktok, web] = exportJobs(
      { exports: ['tiktok', { name: 'web', codec: 'h265', bitrate: '4M', variants: ['wide'] }] },
      job,
    );
    expect(tiktok!.options).toMatchObject({
      output: '/out/final.wide.tiktok.mp4',
      size: { width: 1080, height: 1920 },
      fps: 30,
      clips: FINAL.clips,
      encoding: { codec: 'h264', profile: 'high', scaler: 'lanczos' },
    });
    const plan = planStitch(tiktok!.options, [probe('/c/a.mp4'), probe('/c/b.mp4')], {
      features: FEATURES,
    });
    const graph = plan.args[plan.args.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('scale=1080:608:flags=lanczos');
    expect(graph).toContain('loudnorm=I=-14:TP=-1');
    expect(plan.args.join(' ')).toContain('-c:v libx264 -crf 20 -preset veryfast -profile:v high');
    expect(web!.options.encoding).toMatchObject({ codec: 'h265', bitrate: '4M' });
    const h265 = planStitch(web!.options, [probe('/c/a.mp4'), probe('/c/b.mp4')], {
      features: { ...FEATURES, encoders: new Set(['libx265', 'aac']) },
    });
    expect(h265.args.join(' ')).toContain('-c:v libx265 -b:v 4M -maxrate 4M -bufsize 8M');
    expect(exportJobs({ exports: [{ name: 'web', variants: ['vertical'] }] }, job)).toEqual([]);
  });

  it('names a missing encoder or filter instead of letting ffmpeg fail', () => {
    const [web] = exportJobs(
      { exports: [{ name: 'web', codec: 'h265' }] },
      { variant: null, options: FINAL },
    );
    expect(() =>
      planStitch(web!.options, [probe('/c/a.mp4'), probe('/c/b.mp4')], { features: FEATURES }),
    ).toThrow(/no libx265 encoder/);
    expect(() =>
      planStitch(FINAL, [probe('/c/a.mp4'), probe('/c/b.mp4')], {
        features: { filters: new Set(['concat']), encoders: FEATURES.encoders },
      }),
    ).toThrow(/no loudnorm, ebur128 filters/);
  });

  it('the preview is 360 px high, 15 fps, ultrafast, a fast scaler and no loudness pass', () => {
    const draft = previewJob({ variant: 'wide', options: FINAL });
    expect(draft.options).toMatchObject({
      output: '/out/final.wide.preview.mp4',
      size: { width: 640, height: 360 },
      fps: 15,
      encoding: { preset: 'ultrafast', scaler: 'fast_bilinear' },
    });
    expect(draft.options.loudness).toBeUndefined();
    const plan = planStitch(draft.options, [probe('/c/a.mp4'), probe('/c/b.mp4')], {
      features: FEATURES,
    });
    expect(plan.args.join(' ')).not.toContain('loudnorm');
    expect(plan.args.join(' ')).toContain('scale=640:360:flags=fast_bilinear');
  });
});
