/**
 * The rules of the API reference for one request body of `POST /v1/videos`. One set of rules
 * serves both the manifest validator and the simulator, so the two cannot disagree.
 */
import {
  DEFAULT_RATIO,
  LIMITS,
  MODELS,
  MODES,
  RATIOS,
  SIZES,
  inferMode,
  isModelId,
  type Mode,
  type Ratio,
  type Size,
} from '../models.js';
import { isLoopbackHost } from './url.js';

export interface VideoRequestMetadata {
  ratio?: string;
  generate_audio?: boolean;
  web_search?: boolean;
  watermark?: boolean;
  webhook_url?: string;
  video_urls?: string[];
  audio_urls?: string[];
  action?: string;
  [key: string]: unknown;
}

/** The JSON body POSTed to `/v1/videos`. */
export interface VideoRequest {
  model: string;
  prompt: string;
  duration?: number;
  size?: string;
  images?: string[];
  metadata?: VideoRequestMetadata;
}

export type RequestPath = readonly (string | number)[];

export interface RequestProblem {
  severity: 'error' | 'warning';
  /** Where in the body, e.g. `['metadata', 'ratio']` or `['images', 3]`. */
  path: RequestPath;
  message: string;
  fix?: string;
}

const ASSET_REF = /^asset:\/\/[A-Za-z0-9][A-Za-z0-9._-]*$/;
const REFERENCE = /@(image|video|audio)_file_(\d+)/g;

/** Counts Unicode code points, as the API does: prompts are often Chinese or carry emoji. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** A public http(s) URL or an `asset://` reference; nothing local, relative or of another scheme. */
export function checkMediaUrl(url: string): string | undefined {
  if (url.startsWith('asset://')) {
    return ASSET_REF.test(url) ? undefined : 'an asset reference looks like asset://asset-xxxxxxxx';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'a public http:// or https:// URL (or asset://<officialId>) is needed; local files and relative paths cannot be sent';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return `the ${parsed.protocol} scheme cannot be sent; use a public http:// or https:// URL (or asset://<officialId>)`;
  }
  return undefined;
}

/** The mode the API will use for this body: `metadata.action`, else inferred from the images. */
export function requestMode(body: Pick<VideoRequest, 'images' | 'metadata'>): Mode {
  const action = body.metadata?.action;
  if (typeof action === 'string' && (MODES as readonly string[]).includes(action)) {
    return action as Mode;
  }
  return inferMode(Array.isArray(body.images) ? body.images.length : 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}

/** Collects the problems of one body; each check below reports through it. */
interface Problems {
  list: RequestProblem[];
  error(path: RequestPath, message: string, fix?: string): void;
  warn(path: RequestPath, message: string, fix?: string): void;
}

function problemList(): Problems {
  const list: RequestProblem[] = [];
  const add = (severity: RequestProblem['severity']) => (p: RequestPath, m: string, f?: string) =>
    list.push({ severity, path: p, message: m, ...(f ? { fix: f } : {}) });
  return { list, error: add('error'), warn: add('warning') };
}

/** The reference lists of a body, as far as they are lists of strings. */
interface References {
  images: string[];
  videos: string[];
  audios: string[];
}

/**
 * Checks one request body against every rule of the reference. Returns all problems; an
 * empty list (or warnings only) means the API would accept it.
 */
export function checkRequest(input: unknown): RequestProblem[] {
  const p = problemList();
  if (!isObject(input)) {
    p.error([], 'the request body must be a JSON object');
    return p.list;
  }
  const body = input;
  checkModel(body.model, p);
  checkPrompt(body.prompt, p);
  checkDurationAndSize(body, p);
  const images = checkUrlList(body.images, ['images'], p);
  let metadata: Record<string, unknown> = {};
  if (body.metadata !== undefined) {
    if (isObject(body.metadata)) metadata = body.metadata;
    else p.error(['metadata'], 'metadata must be an object');
  }
  const refs: References = {
    images,
    videos: checkUrlList(metadata.video_urls, ['metadata', 'video_urls'], p),
    audios: checkUrlList(metadata.audio_urls, ['metadata', 'audio_urls'], p),
  };
  checkMetadataFields(metadata, p);
  const mode = requestMode({ images: refs.images, metadata: metadata as VideoRequestMetadata });
  checkModeReferences(mode, refs, p);
  if (metadata.web_search === true && mode !== 'text_to_video') {
    p.error(
      ['metadata', 'web_search'],
      `web_search only works with text_to_video; this request is ${mode}`,
      'remove web_search, or drop the images',
    );
  }
  checkAssetRefs(body.model, refs, p);
  if (typeof body.prompt === 'string') checkPromptReferences(body.prompt, mode, refs, p);
  return p.list;
}

function checkModel(model: unknown, p: Problems): void {
  if (typeof model !== 'string' || model === '') {
    p.error(
      ['model'],
      'model is required',
      `set model to one of ${quoteList(Object.keys(MODELS))}`,
    );
  } else if (!isModelId(model)) {
    p.error(['model'], `unknown model "${model}"`, `use one of ${quoteList(Object.keys(MODELS))}`);
  }
}

function checkPrompt(prompt: unknown, p: Problems): void {
  if (typeof prompt !== 'string') {
    p.error(
      ['prompt'],
      'prompt is required and must be a string',
      'describe the shot in 1-2500 characters',
    );
    return;
  }
  const length = codePointLength(prompt);
  if (length < LIMITS.promptMin || prompt.trim() === '') {
    p.error(['prompt'], 'prompt is empty', 'describe the shot in 1-2500 characters');
  } else if (length > LIMITS.promptMax) {
    p.error(
      ['prompt'],
      `prompt is ${length} characters long; the API takes at most ${LIMITS.promptMax}`,
      `shorten it by ${length - LIMITS.promptMax} characters`,
    );
  }
}

function checkDurationAndSize(body: Record<string, unknown>, p: Problems): void {
  const d = body.duration;
  if (
    d !== undefined &&
    (typeof d !== 'number' ||
      !Number.isInteger(d) ||
      d < LIMITS.durationMin ||
      d > LIMITS.durationMax)
  ) {
    p.error(
      ['duration'],
      `duration ${JSON.stringify(d)} is not a whole number of seconds from ${LIMITS.durationMin} to ${LIMITS.durationMax}`,
      `use an integer from ${LIMITS.durationMin} to ${LIMITS.durationMax} (default ${LIMITS.durationDefault})`,
    );
  }
  if (body.size !== undefined && !(SIZES as readonly unknown[]).includes(body.size)) {
    p.error(
      ['size'],
      `size ${JSON.stringify(body.size)} is not supported`,
      `use one of ${quoteList(SIZES)}`,
    );
  }
}

/** The strings of a list of media URLs, each checked; what is not a list gives nothing. */
function checkUrlList(value: unknown, path: RequestPath, p: Problems): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    p.error(path, `${path.join('.')} must be an array of URLs`);
    return [];
  }
  const urls: string[] = [];
  value.forEach((url, i) => {
    if (typeof url !== 'string') {
      p.error([...path, i], `${path.join('.')}[${i}] must be a URL string`);
      return;
    }
    const problem = checkMediaUrl(url);
    if (problem) p.error([...path, i], `"${url}" is not a usable asset URL`, problem);
    urls.push(url);
  });
  return urls;
}

/** ratio, the boolean switches, webhook_url and action: each on its own. */
function checkMetadataFields(metadata: Record<string, unknown>, p: Problems): void {
  if (metadata.ratio !== undefined && !(RATIOS as readonly unknown[]).includes(metadata.ratio)) {
    p.error(
      ['metadata', 'ratio'],
      `ratio ${JSON.stringify(metadata.ratio)} is not supported`,
      `use one of ${quoteList(RATIOS)}`,
    );
  }
  for (const flag of ['generate_audio', 'web_search', 'watermark'] as const) {
    if (metadata[flag] !== undefined && typeof metadata[flag] !== 'boolean') {
      p.error(
        ['metadata', flag],
        `${flag} must be true or false, not ${JSON.stringify(metadata[flag])}`,
      );
    }
  }
  const hook = metadata.webhook_url;
  if (hook !== undefined && !(typeof hook === 'string' && isHookUrlText(hook))) {
    p.error(
      ['metadata', 'webhook_url'],
      `webhook_url ${JSON.stringify(hook)} is not an https URL`,
      'give a full https:// URL the gateway can call when the task ends (plain http only on loopback)',
    );
  }
  const action = metadata.action;
  if (action !== undefined && !(MODES as readonly unknown[]).includes(action)) {
    p.error(
      ['metadata', 'action'],
      `action ${JSON.stringify(action)} is not a mode`,
      `use one of ${quoteList(MODES)}`,
    );
  }
}

function isHookUrlText(hook: string): boolean {
  try {
    return isHookUrl(new URL(hook));
  } catch {
    return false;
  }
}

/** How many images each mode takes, and which modes take reference videos and audios. */
function checkModeReferences(mode: Mode, refs: References, p: Problems): void {
  const imageCount = refs.images.length;
  const needImages = (count: number) => {
    if (imageCount === count) return;
    p.error(
      ['images'],
      `${mode} takes exactly ${count} image${count === 1 ? '' : 's'}, got ${imageCount}`,
      count === 1
        ? 'give one image: the first frame'
        : 'give two images: [first frame, last frame]',
    );
  };
  if (mode === 'text_to_video' && imageCount > 0) {
    p.error(
      ['images'],
      `text_to_video takes no images, got ${imageCount}`,
      'remove the images, or choose a mode that uses them',
    );
  } else if (mode === 'image_to_video') needImages(1);
  else if (mode === 'first_last_frame') needImages(2);
  if (mode === 'multi_ref') checkMultiRefCounts(refs, p);
  else {
    for (const [kind, urls] of [
      ['video', refs.videos],
      ['audio', refs.audios],
    ] as const) {
      if (urls.length === 0) continue;
      p.error(
        ['metadata', `${kind}_urls`],
        `reference ${kind}s are only for multi_ref; this request is ${mode}`,
        `remove the ${kind}s, or set mode: multi_ref`,
      );
    }
  }
}

function checkMultiRefCounts(refs: References, p: Problems): void {
  const limits: [RequestPath, string, number, number][] = [
    [['images'], 'images', refs.images.length, LIMITS.multiRefImages],
    [['metadata', 'video_urls'], 'videos', refs.videos.length, LIMITS.multiRefVideos],
    [['metadata', 'audio_urls'], 'audios', refs.audios.length, LIMITS.multiRefAudios],
  ];
  for (const [path, what, count, max] of limits) {
    if (count > max) {
      p.error(
        path,
        `multi_ref takes at most ${max} ${what}, got ${count}`,
        `remove ${count - max}`,
      );
    }
  }
  if (refs.images.length + refs.videos.length + refs.audios.length === 0) {
    p.error(
      ['images'],
      'multi_ref needs at least one reference image, video or audio',
      'add assets.images, assets.videos or assets.audios',
    );
  }
}

/** `asset://` references only on the model that accepts them. */
function checkAssetRefs(model: unknown, refs: References, p: Problems): void {
  if (typeof model !== 'string' || !isModelId(model) || MODELS[model].assetRefs) return;
  const lists: [RequestPath, string[]][] = [
    [['images'], refs.images],
    [['metadata', 'video_urls'], refs.videos],
    [['metadata', 'audio_urls'], refs.audios],
  ];
  const fast = Object.entries(MODELS).find(([, info]) => info.assetRefs)?.[0];
  for (const [path, urls] of lists) {
    urls.forEach((url, i) => {
      if (!url.startsWith('asset://')) return;
      p.error(
        [...path, i],
        `asset:// references are not accepted by ${model}`,
        `use model ${fast}, or a public URL`,
      );
    });
  }
}

/** `@image_file_N` and friends point at a reference that exists; under multi_ref, each is used. */
function checkPromptReferences(prompt: string, mode: Mode, refs: References, p: Problems): void {
  const counts = {
    image: refs.images.length,
    video: refs.videos.length,
    audio: refs.audios.length,
  };
  const field = { image: 'images', video: 'videos', audio: 'audios' };
  const used = { image: new Set<number>(), video: new Set<number>(), audio: new Set<number>() };
  for (const match of prompt.matchAll(REFERENCE)) {
    const kind = match[1] as 'image' | 'video' | 'audio';
    const n = Number(match[2]);
    used[kind].add(n);
    if (n >= 1 && n <= counts[kind]) continue;
    p.error(
      ['prompt'],
      `the prompt refers to ${match[0]}, but there ${counts[kind] === 1 ? 'is' : 'are'} ${counts[kind]} ${kind}${counts[kind] === 1 ? '' : 's'}`,
      counts[kind] === 0
        ? `add ${field[kind]} to assets, or remove ${match[0]}`
        : counts[kind] === 1
          ? `refer to it as @${kind}_file_1`
          : `refer to @${kind}_file_1 to @${kind}_file_${counts[kind]}`,
    );
  }
  if (mode !== 'multi_ref') return;
  for (const kind of ['image', 'video', 'audio'] as const) {
    for (let n = 1; n <= counts[kind]; n++) {
      if (used[kind].has(n)) continue;
      p.warn(
        kind === 'image' ? ['images', n - 1] : ['metadata', `${kind}_urls`, n - 1],
        `${kind} ${n} is never referenced in the prompt`,
        `mention @${kind}_file_${n} where it should be used`,
      );
    }
  }
}

/** JSON with object keys sorted at every level: the same body always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What the API makes of a body: every setting it leaves out, filled in with the API's default. */
export interface EffectiveSettings {
  size: Size;
  ratio: Ratio;
  seconds: number;
  audio: boolean;
}

/**
 * The defaults of the API reference applied to a body (size by model, ratio, duration,
 * audio): the one place the planner (what it will cost) and the simulator (what it makes
 * and bills) learn them, so the two cannot disagree.
 */
export function effectiveSettings(
  body: Pick<VideoRequest, 'model' | 'size' | 'duration' | 'metadata'>,
): EffectiveSettings {
  const size: Size = (SIZES as readonly string[]).includes(body.size ?? '')
    ? (body.size as Size)
    : isModelId(body.model)
      ? MODELS[body.model].defaultSize
      : '480p';
  const wanted = body.metadata?.ratio;
  const ratio: Ratio = (RATIOS as readonly string[]).includes(wanted ?? '')
    ? (wanted as Ratio)
    : DEFAULT_RATIO;
  return {
    size,
    ratio,
    seconds: body.duration ?? LIMITS.durationDefault,
    audio: body.metadata?.generate_audio !== false,
  };
}

/** A URL the gateway may call back: https, or plain http on this machine (a local receiver). */
export function isHookUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}
