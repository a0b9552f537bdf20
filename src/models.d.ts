/** Everything the API reference fixes about models, sizes, ratios and limits, in one place. */
export declare const SIZES: readonly ['480p', '720p'];
export type Size = (typeof SIZES)[number];
export declare const RATIOS: readonly ['21:9', '16:9', '4:3', '1:1', '3:4', '9:16'];
export type Ratio = (typeof RATIOS)[number];
export declare const MODES: readonly [
  'text_to_video',
  'image_to_video',
  'first_last_frame',
  'multi_ref',
];
export type Mode = (typeof MODES)[number];
export interface ModelInfo {
  /** The resolution the API uses when the request sets no `size`. */
  defaultSize: Size;
  /** Whether `asset://<officialId>` references are accepted. */
  assetRefs: boolean;
  description: string;
}
export declare const MODELS: {
  readonly 'seedance-2-official': {
    readonly defaultSize: '480p';
    readonly assetRefs: false;
    readonly description: 'standard';
  };
  readonly 'seedance-2-official2-fast': {
    readonly defaultSize: '720p';
    readonly assetRefs: true;
    readonly description: 'fast; automatic asset review, accepts asset:// references';
  };
};
export type ModelId = keyof typeof MODELS;
export declare const MODEL_IDS: ModelId[];
export declare const DEFAULT_MODEL: ModelId;
export declare function isModelId(value: unknown): value is ModelId;
export declare const LIMITS: {
  readonly promptMin: 1;
  readonly promptMax: 2500;
  readonly durationMin: 4;
  readonly durationMax: 15;
  readonly durationDefault: 5;
  readonly multiRefImages: 9;
  readonly multiRefVideos: 3;
  readonly multiRefAudios: 3;
  readonly videoRefMinSeconds: 1.8;
  readonly videoRefTotalSeconds: 15;
};
/** The mode the API infers from the number of images when `metadata.action` is absent. */
export declare function inferMode(imageCount: number): Mode;
/** Pixel size of a clip the API returns, by resolution and ratio. */
export declare const PIXEL_SIZES: Record<
  Size,
  Record<
    Ratio,
    {
      width: number;
      height: number;
    }
  >
>;
/** The ratio the API uses when the request sets none. The reference names no default; 16:9 is what its examples use. */
export declare const DEFAULT_RATIO: Ratio;
export declare const DEFAULT_BASE_URL = 'https://cdn.12ai.org';
