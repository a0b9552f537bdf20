/** Everything the API reference fixes about models, sizes, ratios and limits, in one place. */
export const SIZES = ['480p', '720p'];
export const RATIOS = ['21:9', '16:9', '4:3', '1:1', '3:4', '9:16'];
export const MODES = ['text_to_video', 'image_to_video', 'first_last_frame', 'multi_ref'];
export const MODELS = {
  'seedance-2-official': {
    defaultSize: '480p',
    assetRefs: false,
    description: 'standard',
  },
  'seedance-2-official2-fast': {
    defaultSize: '720p',
    assetRefs: true,
    description: 'fast; automatic asset review, accepts asset:// references',
  },
};
export const MODEL_IDS = Object.keys(MODELS);
export const DEFAULT_MODEL = 'seedance-2-official';
export function isModelId(value) {
  return typeof value === 'string' && Object.hasOwn(MODELS, value);
}
export const LIMITS = {
  promptMin: 1,
  promptMax: 2500,
  durationMin: 4,
  durationMax: 15,
  durationDefault: 5,
  multiRefImages: 9,
  multiRefVideos: 3,
  multiRefAudios: 3,
  videoRefMinSeconds: 1.8,
  videoRefTotalSeconds: 15,
};
/** The mode the API infers from the number of images when `metadata.action` is absent. */
export function inferMode(imageCount) {
  if (imageCount === 0) return 'text_to_video';
  if (imageCount === 1) return 'image_to_video';
  if (imageCount === 2) return 'first_last_frame';
  return 'multi_ref';
}
/** Pixel size of a clip the API returns, by resolution and ratio. */
export const PIXEL_SIZES = {
  '480p': {
    '16:9': { width: 864, height: 496 },
    '4:3': { width: 752, height: 560 },
    '1:1': { width: 640, height: 640 },
    '3:4': { width: 560, height: 752 },
    '9:16': { width: 496, height: 864 },
    '21:9': { width: 992, height: 432 },
  },
  '720p': {
    '16:9': { width: 1280, height: 720 },
    '4:3': { width: 1112, height: 834 },
    '1:1': { width: 960, height: 960 },
    '3:4': { width: 834, height: 1112 },
    '9:16': { width: 720, height: 1280 },
    '21:9': { width: 1470, height: 630 },
  },
};
/** The ratio the API uses when the request sets none. The reference names no default; 16:9 is what its examples use. */
export const DEFAULT_RATIO = '16:9';
export const DEFAULT_BASE_URL = 'https://cdn.12ai.org';
//# sourceMappingURL=models.js.map
