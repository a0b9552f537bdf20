import { DEFAULT_MODEL, type Mode } from '../models.js';
import { expandCast, type Cast } from './cast.js';
import { frameDependencies, framePlaceholder, frameUseOf, isFrameRef } from './frames.js';
import type { Origin, ResolvedShot } from './request.js';
import type { Shot, ShotSettings, ShotlistManifest, Variant } from './types.gen.js';

/** Settings a command line may force over everything in the manifest. */
export interface ShotOverrides {
  model?: string;
  duration?: number;
  size?: string;
  ratio?: string;
}

const SETTINGS = [
  'mode',
  'model',
  'duration',
  'size',
  'ratio',
  'audio',
  'watermark',
  'web_search',
  'webhook_url',
  'takes',
  'trim',
  'transition',
] as const satisfies readonly (keyof ShotSettings)[];

type Layer = { values: ShotSettings; path: Origin };

/**
 * Resolves one shot in one variant: built-in < defaults < variant < shot < overrides. Records
 * where each value came from, so a problem with it points at the line that set it.
 */
export function resolveShot(
  manifest: ShotlistManifest,
  shotIndex: number,
  variantIndex: number | null,
  overrides: ShotOverrides = {},
): ResolvedShot {
  const shot = manifest.shots[shotIndex] as Shot;
  const variant =
    variantIndex === null ? undefined : (manifest.variants?.[variantIndex] as Variant | undefined);
  const shotPath: Origin = ['shots', shotIndex];
  const layers: Layer[] = [];
  if (manifest.defaults) layers.push({ values: manifest.defaults, path: ['defaults'] });
  if (variant) layers.push({ values: variant, path: ['variants', variantIndex as number] });
  layers.push({ values: shot, path: shotPath });

  const origins: Record<string, Origin> = { prompt: [...shotPath, 'prompt'] };
  const resolved: Record<string, unknown> = {};
  for (const key of SETTINGS) {
    for (const layer of layers) {
      if (layer.values[key] !== undefined) {
        resolved[key] = layer.values[key];
        origins[key] = [...layer.path, key];
      }
    }
  }
  let metadata: Record<string, unknown> | undefined;
  for (const layer of layers) {
    if (layer.values.metadata) {
      metadata = { ...metadata, ...(layer.values.metadata as Record<string, unknown>) };
      origins.metadata = [...layer.path, 'metadata'];
    }
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) resolved[key] = value;
  }
  for (const kind of ['images', 'videos', 'audios'] as const) {
    if (shot.assets?.[kind] !== undefined) origins[kind] = [...shotPath, 'assets', kind];
  }
  const frameUse = frameUseOf(shot, shotPath);
  if (frameUse) origins.frameAs = frameUse.path;
  const resolvedShot: ResolvedShot = {
    id: shot.id,
    prompt: shot.prompt,
    variant: variant?.name ?? null,
    mode: resolved.mode as Mode | undefined,
    model: (resolved.model as string | undefined) ?? DEFAULT_MODEL,
    duration: resolved.duration as number | undefined,
    size: resolved.size as string | undefined,
    ratio: resolved.ratio as string | undefined,
    audio: resolved.audio as boolean | undefined,
    watermark: resolved.watermark as boolean | undefined,
    web_search: resolved.web_search as boolean | undefined,
    webhook_url: resolved.webhook_url as string | undefined,
    metadata,
    takes: (resolved.takes as number | undefined) ?? 1,
    trim: resolved.trim as ResolvedShot['trim'],
    transition: resolved.transition as ResolvedShot['transition'],
    images: shot.assets?.images?.map((entry) =>
      isFrameRef(entry) ? framePlaceholder(entry) : entry,
    ),
    videos: shot.assets?.videos,
    audios: shot.assets?.audios,
    ...(frameUse ? { frameAs: frameUse.as } : {}),
    origins,
    path: shotPath,
  };
  return withCast(resolvedShot, manifest.cast);
}

/**
 * The shot with the cast members its prompt mentions expanded into its prompt and images, and
 * its mode multi_ref unless a layer sets one (a conflict the rules report). A frame the shot
 * starts on (`as: first_frame`) keeps the cast to words; a frame `as: reference` makes the shot
 * multi_ref, cast or not.
 */
function withCast(shot: ResolvedShot, cast: Cast | undefined): ResolvedShot {
  const wordsOnly = shot.frameAs === 'first_frame';
  const expansion =
    cast === undefined
      ? undefined
      : expandCast(shot.prompt, shot.images, cast, { images: !wordsOnly });
  const promptOrigin = shot.origins.prompt as Origin;
  const modeOrigin = shot.origins.frameAs ?? promptOrigin;
  if (expansion === undefined || expansion.members.length === 0) {
    if (shot.frameAs !== 'reference' || shot.mode !== undefined) return shot;
    return { ...shot, mode: 'multi_ref', origins: { ...shot.origins, mode: modeOrigin } };
  }
  if (wordsOnly) {
    return { ...shot, prompt: expansion.prompt, cast: expansion.members, castImages: false };
  }
  const imageOrigins = expansion.sources.map((source): Origin =>
    'own' in source
      ? [...shot.path, 'assets', 'images', source.own]
      : ['cast', source.member, 'images', source.image],
  );
  const origins: Record<string, Origin> = {
    ...shot.origins,
    images: shot.origins.images ?? promptOrigin,
  };
  if (shot.mode === undefined) origins.mode = modeOrigin;
  const unsaid =
    shot.mode === undefined &&
    shot.frameAs === undefined &&
    frameDependencies(shot.images).length > 0;
  return {
    ...shot,
    prompt: expansion.prompt,
    images: expansion.images,
    mode: shot.mode ?? 'multi_ref',
    cast: expansion.members,
    imageOrigins,
    origins,
    ...(unsaid ? { frameCastUnsaid: true as const } : {}),
  };
}
