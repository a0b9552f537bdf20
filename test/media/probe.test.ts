import { rename } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from '../../src/errors.js';
import {
  checkVideo,
  parseProbeJson,
  parseRate,
  probe,
  probeAll,
  verifyVideo,
} from '../../src/media/probe.js';
import { progressParser, type FfmpegProgress } from '../../src/media/run-ffmpeg.js';
import { makeClip, tempDir } from './helpers.js';

const FFPROBE_JSON = JSON.stringify({
  streams: [
    {
      codec_type: 'video',
      codec_name: 'h264',
      width: 1280,
      height: 720,
      pix_fmt: 'yuv420p',
      r_frame_rate: '24/1',
      avg_frame_rate: '24/1',
      time_base: '1/12288',
      sample_aspect_ratio: '1:1',
      nb_frames: '120',
      duration: '5.000000',
    },
    {
      codec_type: 'audio',
      codec_name: 'aac',
      sample_rate: '48000',
      channels: 2,
      channel_layout: 'stereo',
      duration: '5.021333',
    },
  ],
  format: { duration: '5.021333', format_name: 'mov,mp4,m4a,3gp,3g2,mj2', size: '123456' },
});

describe('parseProbeJson', () => {
  it('reads the streams and the container', () => {
    expect(parseProbeJson('/a.mp4', FFPROBE_JSON)).toEqual({
      file: '/a.mp4',
      durationSec: 5.021333,
      formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
      sizeBytes: 123456,
      video: {
        codec: 'h264',
        width: 1280,
        height: 720,
        pixFmt: 'yuv420p',
        frameRate: '24/1',
        fps: 24,
        timeBase: '1/12288',
        sampleAspectRatio: '1:1',
        nbFrames: 120,
        durationSec: 5,
      },
      audio: {
        codec: 'aac',
        channels: 2,
        channelLayout: 'stereo',
        sampleRate: 48000,
        durationSec: 5.021333,
      },
    });
  });

  it('skips cover art, falls back to avg_frame_rate, and treats 0:1 SAR as square', () => {
    const json = JSON.stringify({
      streams: [
        {
          codec_type: 'video',
          codec_name: 'mjpeg',
          width: 600,
          height: 600,
          disposition: { attached_pic: 1 },
        },
        {
          codec_type: 'video',
          codec_name: 'h264',
          width: 640,
          height: 360,
          r_frame_rate: '0/0',
          avg_frame_rate: '30000/1001',
          sample_aspect_ratio: '0:1',
        },
      ],
      format: {},
    });
    const info = parseProbeJson('x', json);
    expect(info.video?.codec).toBe('h264');
    expect(info.video?.frameRate).toBe('30000/1001');
    expect(info.video?.fps).toBeCloseTo(29.97, 2);
    expect(info.video?.sampleAspectRatio).toBe('1:1');
    expect(info.audio).toBeUndefined();
    expect(info.durationSec).toBe(0);
  });

  it('throws a MediaError on output that is not JSON', () => {
    expect(() => parseProbeJson('x', 'garbage')).toThrow(MediaError);
  });

  it('parses rates', () => {
    expect(parseRate('24/1')).toBe(24);
    expect(parseRate('25')).toBe(25);
    expect(parseRate('0/0')).toBeNaN();
    expect(parseRate(undefined)).toBeNaN();
  });
});

describe('checkVideo', () => {
  const info = parseProbeJson('/a.mp4', FFPROBE_JSON);
  it('accepts a duration within two frames', () => {
    expect(() => checkVideo(info, { expectDurationSec: 5 })).not.toThrow();
  });
  it('refuses a truncated file and a file without video', () => {
    expect(() => checkVideo(info, { expectDurationSec: 6 })).toThrow(/expected 6\.000 s/);
    expect(() => checkVideo({ ...info, video: undefined })).toThrow(/no video stream/);
    expect(() => checkVideo({ ...info, durationSec: 0 })).toThrow(/no duration/);
  });
});

describe('progressParser', () => {
  it('reports each -progress block, old (out_time_ms) and new (out_time_us) builds alike', () => {
    const seen: FfmpegProgress[] = [];
    const feed = progressParser((p) => seen.push(p));
    feed('frame=10\nout_time_ms=500000\nspeed=2.5x\nprogress=cont');
    feed('inue\nframe=24\nout_time_us=1000000\nout_time_ms=1000000\nspeed=N/A\nprogress=end\n');
    expect(seen).toEqual([
      { outTimeSec: 0.5, done: false, speed: 2.5, frame: 10 },
      { outTimeSec: 1, done: true, frame: 24 },
    ]);
  });
});

describe('probe with real ffprobe', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let clip = '';
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    clip = await makeClip(path.join(dir, `clip 'one' 橘猫.mp4`), { seconds: 1 });
  });
  afterAll(() => cleanup());

  it('describes a real clip and verifies it', async () => {
    await makeClip(clip, { seconds: 1 });
    const info = await verifyVideo(clip, { expectDurationSec: 1 });
    expect(info.video).toMatchObject({ codec: 'h264', width: 160, height: 90, frameRate: '24/1' });
    expect(info.audio).toMatchObject({ codec: 'aac', channels: 2, sampleRate: 48000 });
  });

  it('remembers an unchanged file and notices a changed one', async () => {
    const first = await probe(clip);
    first.video!.width = 1;
    expect((await probe(clip)).video?.width).toBe(160);
    const [again] = await probeAll([clip]);
    expect(again?.file).toBe(clip);
    const other = await makeClip(path.join(dir, 'other.mp4'), {
      seconds: 1,
      width: 96,
      height: 54,
    });
    await rename(other, clip);
    expect((await probe(clip)).video?.width).toBe(96);
  });

  it('throws a MediaError with ffprobe stderr for a missing file', async () => {
    const err = await probe(path.join(dir, 'nope.mp4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).stderrTail).toMatch(/No such file/);
  });
});
