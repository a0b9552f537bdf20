import { MODES, inferMode, type Mode } from '../models.js';
import type { VideoRequest, VideoRequestMetadata } from '../api/contract.js';
import type { FrameRef } from './types.gen.js';

export type Origin = readonly (string | number)[];

/** A shot with every setting resolved through built-in < defaults < variant < shot < flags. */
export interface ResolvedShot {
  id: string;
  prompt: string;
  variant: string | null;
  mode?: Mode;
  model: string;
  duration?: number;
  size?: string;
  ratio?: string;
  audio?: boolean;
  watermark?: boolean;
  web_search?: boolean;
  webhook_url?: string;
  metadata?: Record<string, unknown>;
  takes: number;
  trim?: { start?: number; end?: number };
  transition?: { type?: string; duration?: number };
  images?: string[];
  videos?: string[];
  audios?: string[];
  /** The cast members the prompt mentions, whose images and words the body carries. */
  cast?: string[];
  /** False when the cast is named in words only, without its images (`as: first_frame`). */
  castImages?: false;
  /** What the shot's frame entries say the frame is (`as:`), when one says. */
  frameAs?: NonNullable<FrameRef['as']>;
  /**
   * It starts on another shot's frame and mentions cast members, and neither `as:` nor a mode
   * says which wins: it renders multi_ref, the frame only a reference image.
   */
  frameCastUnsaid?: true;
  /** Where each image came from, when not all from the shot's own `assets.images` (the cast). */
  imageOrigins?: Origin[];
  /** Where each setting came from in the manifest, by setting name. */
  origins: Record<string, Origin>;
  /** The shot's own path, e.g. `['shots', 3]`. */
  path: Origin;
}

/** Metadata keys the manifest sets through their own fields; `metadata` may not repeat them. */
export const RESERVED_METADATA = {
  ratio: 'ratio',
  generate_audio: 'audio',
  web_search: 'web_search',
  watermark: 'watermark',
  webhook_url: 'webhook_url',
  video_urls: 'assets.videos',
  audio_urls: 'assets.audios',
  action: 'mode',
} as const;

export interface BuiltRequest {
  body: VideoRequest;
  /** Manifest path of each body field, keyed by its dotted body path (`images.2`). */
  origins: Map<string, Origin>;
}

/**
 * Maps a resolved shot to the exact POST body: only what the manifest sets, in the order the
 * API reference writes its examples, so they come out byte for byte.
 */
export function buildRequest(shot: ResolvedShot): BuiltRequest {
  const origins = new Map<string, Origin>();
  const from = (bodyPath: string, setting: string) => {
    const origin = shot.origins[setting];
    if (origin) origins.set(bodyPath, origin);
  };
  const body: VideoRequest = { model: shot.model, prompt: shot.prompt };
  from('model', 'model');
  from('prompt', 'prompt');
  if (shot.images !== undefined) {
    body.images = [...shot.images];
    from('images', 'images');
    shot.images.forEach((_, i) => {
      const origin = shot.imageOrigins?.[i] ?? shot.origins.images?.concat(i);
      if (origin) origins.set(`images.${i}`, origin);
    });
  }
  if (shot.duration !== undefined) {
    body.duration = shot.duration;
    from('duration', 'duration');
  }
  if (shot.size !== undefined) {
    body.size = shot.size;
    from('size', 'size');
  }
  const metadata: VideoRequestMetadata = {};
  const set = (key: string, value: unknown, setting: string) => {
    if (value === undefined) return;
    metadata[key] = value;
    from(`metadata.${key}`, setting);
  };
  set('ratio', shot.ratio, 'ratio');
  set('generate_audio', shot.audio, 'audio');
  set('web_search', shot.web_search, 'web_search');
  set('watermark', shot.watermark, 'watermark');
  set('webhook_url', shot.webhook_url, 'webhook_url');
  for (const [key, setting] of [
    ['video_urls', 'videos'],
    ['audio_urls', 'audios'],
  ] as const) {
    const urls = shot[setting];
    if (urls === undefined) continue;
    set(key, [...urls], setting);
    const origin = shot.origins[setting];
    if (origin) urls.forEach((_, i) => origins.set(`metadata.${key}.${i}`, [...origin, i]));
  }
  if (shot.mode !== undefined && inferMode(shot.images?.length ?? 0) !== shot.mode) {
    set('action', shot.mode, 'mode');
  }
  for (const [key, value] of Object.entries(shot.metadata ?? {})) {
    if (Object.hasOwn(RESERVED_METADATA, key)) continue;
    metadata[key] = value;
    const origin = shot.origins.metadata;
    if (origin) origins.set(`metadata.${key}`, [...origin, key]);
  }
  if (Object.keys(metadata).length > 0) body.metadata = metadata;
  return { body, origins };
}

/** The mode a resolved shot renders in. */
export function shotMode(shot: Pick<ResolvedShot, 'mode' | 'images'>): Mode {
  return shot.mode && (MODES as readonly string[]).includes(shot.mode)
    ? shot.mode
    : inferMode(shot.images?.length ?? 0);
}
