import { describe, expect, it } from 'vitest';
import {
  checkRequest,
  codePointLength,
  effectiveSettings,
  requestMode,
  type VideoRequest,
} from '../../src/api/contract.js';
import { DEFAULT_RATIO, LIMITS, MODELS } from '../../src/models.js';
import { clipSpec } from '../../src/sim/clips.js';
import { billableSeconds } from '../../src/sim/tasks.js';

const base: VideoRequest = { model: 'seedance-2-official', prompt: 'a cat' };
const errors = (body: unknown) => checkRequest(body).filter((p) => p.severity === 'error');
const params = (body: unknown) => errors(body).map((p) => p.path.join('.'));

describe('checkRequest: the rules of the API reference', () => {
  it('accepts the smallest valid body', () => {
    expect(checkRequest(base)).toEqual([]);
  });

  it('requires a known model', () => {
    expect(params({ prompt: 'x' })).toEqual(['model']);
    expect(errors({ ...base, model: 'sora' })[0]!.message).toContain('unknown model "sora"');
  });

  it('counts the prompt in code points, 1 to 2500', () => {
    expect(codePointLength('猫🐈')).toBe(2);
    expect(params({ ...base, prompt: '' })).toEqual(['prompt']);
    expect(params({ ...base, prompt: '猫'.repeat(2500) })).toEqual([]);
    expect(params({ ...base, prompt: '🐈'.repeat(2500) })).toEqual([]);
    expect(errors({ ...base, prompt: '猫'.repeat(2501) })[0]!.message).toContain('2501');
  });

  it('takes whole durations from 4 to 15', () => {
    for (const ok of [4, 5, 15]) expect(params({ ...base, duration: ok })).toEqual([]);
    for (const bad of [3, 16, 5.5, '5'])
      expect(params({ ...base, duration: bad })).toEqual(['duration']);
  });

  it('knows the sizes and ratios', () => {
    expect(params({ ...base, size: '720p' })).toEqual([]);
    expect(params({ ...base, size: '1080p' })).toEqual(['size']);
    expect(params({ ...base, metadata: { ratio: '9:16' } })).toEqual([]);
    expect(params({ ...base, metadata: { ratio: '2:1' } })).toEqual(['metadata.ratio']);
  });

  it('infers the mode from the number of images, or takes metadata.action', () => {
    const img = (n: number) => Array.from({ length: n }, (_, i) => `https://e.com/${i}.jpg`);
    expect(requestMode({})).toBe('text_to_video');
    expect(requestMode({ images: img(1) })).toBe('image_to_video');
    expect(requestMode({ images: img(2) })).toBe('first_last_frame');
    expect(requestMode({ images: img(3) })).toBe('multi_ref');
    expect(requestMode({ images: img(1), metadata: { action: 'multi_ref' } })).toBe('multi_ref');
  });

  it('checks the number of images per mode', () => {
    const img = (n: number) => Array.from({ length: n }, (_, i) => `https://e.com/${i}.jpg`);
    expect(params({ ...base, metadata: { action: 'image_to_video' } })).toEqual(['images']);
    expect(params({ ...base, images: img(1), metadata: { action: 'first_last_frame' } })).toEqual([
      'images',
    ]);
    expect(params({ ...base, images: img(1), metadata: { action: 'text_to_video' } })).toEqual([
      'images',
    ]);
    expect(params({ ...base, prompt: '@image_file_1', images: img(9) })).toEqual([]);
    expect(params({ ...base, images: img(10) })).toEqual(['images']);
    expect(params({ ...base, metadata: { action: 'multi_ref' } })).toEqual(['images']);
  });

  it('limits multi_ref videos and audios, and keeps them to multi_ref', () => {
    const urls = (n: number, ext: string) =>
      Array.from({ length: n }, (_, i) => `https://e.com/${i}.${ext}`);
    const multi = { ...base, metadata: { action: 'multi_ref' } };
    expect(
      params({ ...multi, metadata: { ...multi.metadata, video_urls: urls(3, 'mp4') } }),
    ).toEqual([]);
    expect(
      params({ ...multi, metadata: { ...multi.metadata, video_urls: urls(4, 'mp4') } }),
    ).toEqual(['metadata.video_urls']);
    expect(
      params({ ...multi, metadata: { ...multi.metadata, audio_urls: urls(4, 'mp3') } }),
    ).toEqual(['metadata.audio_urls']);
    expect(params({ ...base, metadata: { video_urls: urls(1, 'mp4') } })).toEqual([
      'metadata.video_urls',
    ]);
    expect(params({ ...base, metadata: { audio_urls: urls(1, 'mp3') } })).toEqual([
      'metadata.audio_urls',
    ]);
  });

  it('allows web_search with text_to_video only', () => {
    expect(params({ ...base, metadata: { web_search: true } })).toEqual([]);
    expect(
      params({ ...base, images: ['https://e.com/a.jpg'], metadata: { web_search: true } }),
    ).toEqual(['metadata.web_search']);
    expect(
      params({ ...base, images: ['https://e.com/a.jpg'], metadata: { web_search: false } }),
    ).toEqual([]);
  });

  it('accepts asset:// on the fast model only', () => {
    const body = { ...base, images: ['asset://asset-1'] };
    expect(params(body)).toEqual(['images.0']);
    expect(params({ ...body, model: 'seedance-2-official2-fast' })).toEqual([]);
  });

  it('refuses local, relative and other-scheme URLs', () => {
    for (const bad of [
      'file:///etc/passwd',
      './cat.jpg',
      'ftp://e.com/a.jpg',
      'data:image/png;base64,AA',
    ]) {
      expect(params({ ...base, images: [bad] })).toContain('images.0');
    }
  });

  it('wants an https webhook_url', () => {
    expect(params({ ...base, metadata: { webhook_url: 'https://hooks.example.com/x' } })).toEqual(
      [],
    );
    expect(params({ ...base, metadata: { webhook_url: 'http://hooks.example.com/x' } })).toEqual([
      'metadata.webhook_url',
    ]);
  });

  it('keeps @references in range and warns about unreferenced multi_ref assets', () => {
    const body = {
      ...base,
      prompt: '@image_file_1 dances to @audio_file_1',
      images: ['https://e.com/1.jpg', 'https://e.com/2.jpg', 'https://e.com/3.jpg'],
      metadata: { audio_urls: ['https://e.com/a.mp3'] },
    };
    expect(errors(body)).toEqual([]);
    const warnings = checkRequest(body).filter((p) => p.severity === 'warning');
    expect(warnings.map((w) => w.path.join('.'))).toEqual(['images.1', 'images.2']);
    expect(params({ ...body, prompt: '@image_file_4 and @audio_file_1' })).toEqual(['prompt']);
    expect(params({ ...body, prompt: '@video_file_1' })).toEqual(['prompt']);
  });

  it('rejects a body that is not an object', () => {
    expect(params(null)).toEqual(['']);
    expect(params([1])).toEqual(['']);
  });
});

describe('effectiveSettings (the API defaults, for planner and simulator alike)', () => {
  it('fills what a body leaves out with the reference defaults', () => {
    expect(effectiveSettings({ model: 'seedance-2-official' })).toEqual({
      size: MODELS['seedance-2-official'].defaultSize,
      ratio: DEFAULT_RATIO,
      seconds: LIMITS.durationDefault,
      audio: true,
    });
    expect(
      effectiveSettings({
        model: 'seedance-2-official',
        size: '720p',
        duration: 8,
        metadata: { ratio: '9:16', generate_audio: false },
      }),
    ).toEqual({ size: '720p', ratio: '9:16', seconds: 8, audio: false });
  });

  it('is what the simulator renders and bills', () => {
    const body = { model: 'seedance-2-official', prompt: 'p', metadata: { ratio: '1:1' } };
    const spec = clipSpec(body);
    const settings = effectiveSettings(body);
    expect([spec.size, spec.ratio, spec.seconds, spec.audio]).toEqual([
      settings.size,
      settings.ratio,
      settings.seconds,
      settings.audio,
    ]);
    expect(billableSeconds(body)).toBe(settings.seconds);
  });
});
