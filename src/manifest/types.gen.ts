/* Generated from schema/manifest.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Seedance model id.
 */
export type Model = 'seedance-2-official' | 'seedance-2-official2-fast';
/**
 * One rendering of the whole storyboard, e.g. 16:9 for the web and 9:16 for stories.
 */
export type Variant = ShotSettings & {
  /**
   * Variant name, used in file names (final.<name>.mp4).
   */
  name: string;
} & {
  /**
   * Variant name, used in file names (final.<name>.mp4).
   */
  name: string;
};
/**
 * One shot of the storyboard.
 */
export type Shot = ShotSettings & {
  /**
   * Unique shot id; it becomes a file name. Letters, digits, '.', '_' and '-'.
   */
  id: string;
  /**
   * What the shot shows, 1-2500 characters. In multi_ref, refer to assets as @image_file_N, @video_file_N, @audio_file_N.
   */
  prompt: string;
  /**
   * Reference media: images (sent as images), videos and audios (metadata.video_urls / audio_urls, multi_ref only).
   */
  assets?: {
    /**
     * Image URLs: 1 for image_to_video, [first, last] for first_last_frame, up to 9 for multi_ref. An entry may instead be a frame of another shot's clip ({ from: s01, frame: last }): the shot then waits for that one.
     */
    images?: (MediaUrl | FrameRef)[];
    /**
     * Reference video URLs, multi_ref only: at most 3, each >= 1.8 s, 15 s together.
     */
    videos?: MediaUrl[];
    /**
     * Reference audio URLs, multi_ref only: at most 3.
     */
    audios?: MediaUrl[];
  };
  /**
   * Caption shown while the shot plays in the final: a text for the whole shot, or a list of { text, start, end } in seconds of the shot's kept part (after its trim). ${vars} work as in prompts; an @name of the cast shows as the member's name (without the @). At a transition the caption changes in the middle of it.
   */
  caption?: string | [CaptionCue, ...CaptionCue[]];
  voiceover?: Voiceover;
} & {
  /**
   * Unique shot id; it becomes a file name. Letters, digits, '.', '_' and '-'.
   */
  id: string;
  /**
   * What the shot shows, 1-2500 characters. In multi_ref, refer to assets as @image_file_N, @video_file_N, @audio_file_N.
   */
  prompt: string;
  /**
   * Reference media: images (sent as images), videos and audios (metadata.video_urls / audio_urls, multi_ref only).
   */
  assets?: {
    /**
     * Image URLs: 1 for image_to_video, [first, last] for first_last_frame, up to 9 for multi_ref. An entry may instead be a frame of another shot's clip ({ from: s01, frame: last }): the shot then waits for that one.
     */
    images?: (MediaUrl | FrameRef)[];
    /**
     * Reference video URLs, multi_ref only: at most 3, each >= 1.8 s, 15 s together.
     */
    videos?: MediaUrl[];
    /**
     * Reference audio URLs, multi_ref only: at most 3.
     */
    audios?: MediaUrl[];
  };
  /**
   * Caption shown while the shot plays in the final: a text for the whole shot, or a list of { text, start, end } in seconds of the shot's kept part (after its trim). ${vars} work as in prompts; an @name of the cast shows as the member's name (without the @). At a transition the caption changes in the middle of it.
   */
  caption?: string | [CaptionCue, ...CaptionCue[]];
  voiceover?: Voiceover;
};
/**
 * A public http(s) URL, asset://<officialId> (seedance-2-official2-fast only), or a local file (a path relative to the manifest's folder), uploaded to the storage `uploads` names before the first submission.
 */
export type MediaUrl = string;
/**
 * A voice-over for this shot: a local audio file (relative to the manifest, inside its folder unless --allow-outside), or { file, offset, volume }. It starts `offset` seconds into the shot's kept part (after its trim) and must end within it; validate measures it with ffprobe.
 */
export type Voiceover =
  | string
  | {
      /**
       * Path of the audio file, relative to the manifest.
       */
      file: string;
      /**
       * Seconds into the shot's kept part where the voice starts (default 0).
       */
      offset?: number;
      /**
       * Gain of the voice (1 = as is, the default).
       */
      volume?: number;
      /**
       * Variant names this applies to (default: every variant).
       *
       * @minItems 1
       */
      variants?: [string, ...string[]];
    };
/**
 * Two-pass loudness normalisation (ffmpeg loudnorm, linear): a preset (streaming -14 LUFS, broadcast -23 LUFS, EBU R128), or a target. Each output's measured loudness is written to the report.
 */
export type Loudness =
  | ('streaming' | 'broadcast')
  | {
      /**
       * Integrated loudness to reach, LUFS (-70 to -5).
       */
      target: number;
      /**
       * Ceiling for the true peak, dBTP (-9 to 0; default -1).
       */
      true_peak?: number;
    };

/**
 * A storyboard for shotlist: shots rendered through the Seedance video API, then stitched into finished video.
 */
export interface ShotlistManifest {
  /**
   * Optional URL or path of this schema, for editors.
   */
  $schema?: string;
  /**
   * Manifest format version. Always 1.
   */
  version: 1;
  /**
   * Name of the storyboard; the output folder is renders/<name>. Lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.
   */
  name: string;
  /**
   * Values every shot inherits unless a variant or the shot sets its own. Takes every shot field except id, prompt and assets.
   */
  defaults?: ShotSettings;
  /**
   * Named strings; ${name} in any string of the manifest is replaced by the value. Write $${ for a literal ${.
   */
  vars?: {
    /**
     * The text that replaces ${name}; it may use other vars (${brand} earbuds), but not in a loop.
     */
    [k: string]: string;
  };
  /**
   * Your price per second of video, per model. The API reference gives no prices: without them, plans show billable seconds only.
   */
  pricing?: {
    /**
     * Currency code shown with costs, e.g. CNY or USD.
     */
    currency?: string;
    /**
     * Price of one second of video, by model id: one price, or one per size ({ 480p: 0.5, 720p: 1.0 }). A size without a price is like a model without one: seconds shown, a cost budget refused.
     */
    per_second: {
      /**
       * Price per second (>= 0), or an object of prices per second by size.
       */
      [k: string]:
        | number
        | {
            /**
             * Price per second at 480p (>= 0).
             */
            '480p'?: number;
            /**
             * Price per second at 720p (>= 0).
             */
            '720p'?: number;
          };
    };
  };
  /**
   * Limits a run must stay within; a run above them is refused before anything is sent (exit 3).
   */
  budget?: {
    /**
     * Most the new spend of a run may cost, in the pricing currency.
     */
    max_cost?: number;
    /**
     * Most billable seconds a run may submit.
     */
    max_seconds?: number;
    /**
     * Most the whole job may cost over every run: what the journal says was billed, plus what may have been billed, plus this run's new spend.
     */
    max_total_cost?: number;
    /**
     * Most billable seconds over every run: billed so far, plus what may have been billed, plus this run's.
     */
    max_total_seconds?: number;
  };
  /**
   * The most tasks in flight at once (default 4): a 429 from the API lowers it for the run, and it grows back as tasks are created.
   */
  concurrency?: number;
  /**
   * Requests per minute the API account allows, submissions and polls together: every request to the API is paced under it (default: not paced).
   */
  rpm?: number;
  /**
   * Failed tasks per request body (e.g. refused by the content filter), over every run, after which a run stops submitting it unless forced with --force (default 2).
   */
  max_attempts?: number;
  /**
   * Campaign renders: every shot is planned once per variant, with the variant's fields overriding the defaults (a shot's own fields still win).
   *
   * @minItems 1
   */
  variants?: [Variant, ...Variant[]];
  /**
   * The storyboard, in order.
   *
   * @minItems 1
   */
  shots: [Shot, ...Shot[]];
  /**
   * Where local files of `assets` are uploaded, once each, under a key made of their sha256; the API receives the public URL. Not used under --simulate (the simulator serves them).
   */
  uploads?: {
    /**
     * s3: any S3-compatible storage (AWS S3, Cloudflare R2, Aliyun OSS, Tencent COS, MinIO), credentials from the AWS environment or profile. command: run your own upload command.
     */
    provider: 's3' | 'command';
    /**
     * The public URL of an uploaded file; {key} is replaced by its key, e.g. https://cdn.example.com/{key}.
     */
    public_url: string;
    /**
     * Put before each key, e.g. shotlist/ (default none). The key is <prefix><sha256>.<ext>.
     */
    prefix?: string;
    /**
     * s3: the bucket.
     */
    bucket?: string;
    /**
     * s3: the region (default from the AWS environment, else us-east-1; R2 uses auto).
     */
    region?: string;
    /**
     * s3: the endpoint URL of a non-AWS service, e.g. https://<account>.r2.cloudflarestorage.com or https://oss-cn-hangzhou.aliyuncs.com.
     */
    endpoint?: string;
    /**
     * s3: address the bucket in the path (MinIO and most self-hosted servers) instead of the host name.
     */
    path_style?: boolean;
    /**
     * command: the argv of the upload command, run without a shell; {file} is the local file, {key} its key, {content_type} its media type. E.g. [rclone, copyto, "{file}", "remote:bucket/{key}"].
     *
     * @minItems 1
     */
    command?: [string, ...string[]];
  };
  /**
   * Characters (or products, places) defined once and mentioned in prompts as @name. A shot whose prompt mentions @name gets the member's images after its own (each image once), the mention rewritten to "<description> @image_file_N ..." (the description only when given; N the image's position in the shot's images), and the mode multi_ref; a shot that starts on another's frame with as: first_frame gets the description (else the name) only, and no images. Names: a letter, then letters, digits or _ (at most 64); a mention ends at the first other character, so "@mimi在屋顶上" mentions mimi. An @word that names no member and resembles none is left as written.
   */
  cast?: {
    [k: string]: CastMember;
  };
  stitch?: Stitch;
}
/**
 * Fields a shot, a variant or the defaults can set.
 */
export interface ShotSettings {
  /**
   * Generation mode. Normally inferred from the number of images (0 text_to_video, 1 image_to_video, 2 first_last_frame, 3+ multi_ref); set it when that inference would be wrong, e.g. multi_ref with fewer than 3 images. Sent as metadata.action only then.
   */
  mode?: 'text_to_video' | 'image_to_video' | 'first_last_frame' | 'multi_ref';
  model?: Model;
  /**
   * Length of the clip in whole seconds, 4 to 15 (API default 5). Billed per second.
   */
  duration?: number;
  /**
   * Resolution. API default: 480p on seedance-2-official, 720p on seedance-2-official2-fast.
   */
  size?: '480p' | '720p';
  /**
   * Aspect ratio of the clip (sent as metadata.ratio).
   */
  ratio?: '21:9' | '16:9' | '4:3' | '1:1' | '3:4' | '9:16';
  /**
   * Generate an audio track (sent as metadata.generate_audio; API default true).
   */
  audio?: boolean;
  /**
   * Add a watermark (metadata.watermark; API default false).
   */
  watermark?: boolean;
  /**
   * Text-enhancing web search, text_to_video only (metadata.web_search; API default false).
   */
  web_search?: boolean;
  /**
   * https URL the gateway calls when the task ends (metadata.webhook_url).
   */
  webhook_url?: string;
  /**
   * Extra fields merged into the request's metadata as they are, for parameters the gateway adds later.
   */
  metadata?: {
    [k: string]: unknown;
  };
  /**
   * How many candidates of the shot to render (1-10, default 1). Every take is planned and billed.
   */
  takes?: number;
  trim?: Trim;
  transition?: Transition;
}
/**
 * Part of the clip to keep when stitching, in seconds from its start.
 */
export interface Trim {
  /**
   * Seconds to cut from the start.
   */
  start?: number;
  /**
   * Keep the clip up to this second.
   */
  end?: number;
}
/**
 * How a clip joins the next one.
 */
export interface Transition {
  /**
   * cut, or one of ffmpeg xfade's transitions (fade, dissolve, wipeleft, ...). Needs ffmpeg >= 4.3; an older ffmpeg falls back to cuts with a warning.
   */
  type?:
    | 'cut'
    | 'fade'
    | 'dissolve'
    | 'wipeleft'
    | 'wiperight'
    | 'wipeup'
    | 'wipedown'
    | 'slideleft'
    | 'slideright'
    | 'slideup'
    | 'slidedown'
    | 'circlecrop'
    | 'rectcrop'
    | 'distance'
    | 'fadeblack'
    | 'fadewhite'
    | 'radial'
    | 'smoothleft'
    | 'smoothright'
    | 'smoothup'
    | 'smoothdown'
    | 'circleopen'
    | 'circleclose'
    | 'vertopen'
    | 'vertclose'
    | 'horzopen'
    | 'horzclose'
    | 'pixelize'
    | 'diagtl'
    | 'diagtr'
    | 'diagbl'
    | 'diagbr'
    | 'hlslice'
    | 'hrslice'
    | 'vuslice'
    | 'vdslice';
  /**
   * Length of the transition in seconds (default 0.5).
   */
  duration?: number;
}
/**
 * A frame of another shot's clip in the same variant (its picked take, else take 1), cut at full resolution as PNG once that shot is done, uploaded like a local file, and used where the entry stands.
 */
export interface FrameRef {
  /**
   * The id of the shot whose clip gives the frame.
   */
  from: string;
  /**
   * last, first, or a time in seconds from the start of that clip.
   */
  frame: ('last' | 'first') | number;
  /**
   * What the frame is to a shot whose prompt also mentions cast members (without it, such a shot renders multi_ref and validate warns). first_frame: the shot starts on the frame (image_to_video, or first_last_frame with a second image), and each mention becomes the member's description (else its name) without its images; the entry must come first. reference: the shot renders multi_ref with the frame as @image_file_N (N its place in assets.images; refer to it in the prompt) beside the cast's images.
   */
  as?: 'first_frame' | 'reference';
}
/**
 * One caption within a shot.
 */
export interface CaptionCue {
  /**
   * The words shown; a line break starts a new line.
   */
  text: string;
  /**
   * Seconds into the shot's kept part (default 0).
   */
  start?: number;
  /**
   * Seconds into the shot's kept part (default its end).
   */
  end?: number;
}
/**
 * One member of the cast: the images that show it, and optionally words that describe it.
 */
export interface CastMember {
  /**
   * Reference images of the member (URLs or local files, like a shot's assets.images), added to each shot that mentions it.
   */
  images: MediaUrl[];
  /**
   * Written before the member's @image_file_N references where the prompt mentions it, e.g. "橘色短毛猫,绿眼睛".
   */
  description?: string;
}
/**
 * How the rendered shots are joined into one video per variant.
 */
export interface Stitch {
  /**
   * File name of the stitched video in the output folder (default final.mp4); with variants one per variant, e.g. final.vertical.mp4.
   */
  output?: string;
  /**
   * Shot ids in the order to join them (default: the manifest's order). Shots left out are not stitched.
   *
   * @minItems 1
   */
  order?: [string, ...string[]];
  transition?: Transition;
  /**
   * keep the clips' audio, or mute it (default keep).
   */
  audio?: 'keep' | 'mute';
  /**
   * A music or voice track laid over the stitched video.
   */
  soundtrack?: {
    /**
     * Path (relative to the manifest, inside its folder unless --allow-outside) or http(s) URL of the audio file.
     */
    file: string;
    /**
     * Volume of the soundtrack (1 = as is; default 1 for replace, 0.3 for mix).
     */
    volume?: number;
    /**
     * Seconds of fade-out at the end (default 1).
     */
    fade_out?: number;
    /**
     * mix under the clips' audio, or replace it (default mix).
     */
    mode?: 'mix' | 'replace';
    /**
     * What happens when the soundtrack is shorter or longer than the cut: none (default: silence after it ends, cut off at the end of the video), loop (repeat it until the cut ends), stretch_end (change its tempo with atempo, pitch kept, so it ends with the cut; the tempo factor stays between 0.8 (a track up to 20% shorter than the cut) and 1.25 (up to 25% longer): beyond that it plays at the limit and then ends early with silence, or is cut off, with a warning; local files only). validate warns when a soundtrack is shorter than the cut.
     */
    fit?: 'none' | 'loop' | 'stretch_end';
    /**
     * Lower the soundtrack under speech by sidechain compression. By default it ducks under voice-overs whenever there is one.
     */
    duck?: {
      /**
       * Duck under the voice-overs (default true).
       */
      voice?: boolean;
      /**
       * Duck under the clips' own audio too (default false).
       */
      dialogue?: boolean;
      /**
       * How far the soundtrack goes down under speech, in dB (default 12).
       */
      amount?: number;
    };
  };
  /**
   * Pixel size of the output as WIDTHxHEIGHT, e.g. 1280x720 (default: the size of the variant's ratio and resolution).
   */
  size?: string;
  /**
   * How clips of another shape fill the output: pad (letterbox, default) or crop.
   */
  fit?: 'pad' | 'crop';
  /**
   * x264 quality when re-encoding (0-51, lower is better; default 20).
   */
  crf?: number;
  /**
   * x264 speed preset when re-encoding (default veryfast).
   */
  preset?:
    | 'ultrafast'
    | 'superfast'
    | 'veryfast'
    | 'faster'
    | 'fast'
    | 'medium'
    | 'slow'
    | 'slower'
    | 'veryslow';
  /**
   * Captions of the cut: every final gets <final>.srt and <final>.vtt beside it and a soft subtitle track (mov_text); burn draws them into the picture. Shots' own caption fields, and/or a subtitle file for the whole cut.
   */
  captions?: {
    /**
     * An SRT or VTT file (relative to the manifest) whose times are seconds of the final, cards included; played as written, beside the shots' own captions.
     */
    file?: string;
    /**
     * Draw the captions into the picture: true for every variant, or a list of variant names (typical: the 9:16 one). Default false (soft track and sidecars only).
     */
    burn?: boolean | [string, ...string[]];
    /**
     * Language of the subtitle track, ISO 639-2 (e.g. eng, zho, jpn).
     */
    language?: string;
    style?: CaptionStyle;
    /**
     * Only in these variants (names from variants); default every variant.
     *
     * @minItems 1
     */
    variants?: [string, ...string[]];
  };
  /**
   * Title, chapter and end cards, in the order written where they share a place.
   */
  cards?: Card[];
  /**
   * A logo or other image over the video: one overlay, or a list of them.
   */
  logo?: Overlay | [Overlay, ...Overlay[]];
  /**
   * One voice-over track for the whole cut (besides or instead of the shots' own).
   */
  voiceover?: {
    /**
     * Path of the audio file, relative to the manifest, inside its folder unless --allow-outside.
     */
    file: string;
    /**
     * Seconds of the cut where the voice starts (default 0).
     */
    offset?: number;
    /**
     * Gain of the voice (1 = as is, the default).
     */
    volume?: number;
    /**
     * Variant names this applies to (default: every variant).
     *
     * @minItems 1
     */
    variants?: [string, ...string[]];
  };
  loudness?: Loudness;
  /**
   * Deliverables made besides each variant's final, each a full encode from the clips with the final's layers, named like final.vertical.tiktok.mp4. A preset name (tiktok, reels, shorts: 1080x1920 30 fps H.264 High AAC 48 kHz -14 LUFS; youtube: 1920x1080 30 fps -14 LUFS; square: 1080x1080 30 fps -14 LUFS; master: the final's size at high quality; broadcast: the final's size at -23 LUFS) or a custom export.
   *
   * @minItems 1
   */
  exports?: [
    ('tiktok' | 'reels' | 'shorts' | 'youtube' | 'square' | 'master' | 'broadcast') | CustomExport,
    ...(
      ('tiktok' | 'reels' | 'shorts' | 'youtube' | 'square' | 'master' | 'broadcast') | CustomExport
    )[],
  ];
}
/**
 * How burned-in captions (and card text) look.
 */
export interface CaptionStyle {
  /**
   * A font file (relative to the manifest, inside its folder unless --allow-outside), or a family name found with fc-match. Default: a CJK-capable font when the text has Chinese, Japanese or Korean (fonts-noto-cjk), else fc-match's default.
   */
  font?: string;
  /**
   * Text height as a share of the frame height (default 0.05).
   */
  size?: number;
  /**
   * Where captions sit: bottom (default), top or middle.
   */
  position?: 'bottom' | 'top' | 'middle';
  /**
   * Distance from the frame edge as a share of the frame height (default 0.05).
   */
  margin?: number;
  /**
   * Text colour, #rrggbb (default #ffffff).
   */
  color?: string;
  /**
   * Outline width as a share of the text size (default 0.08; 0 for none). Ignored with box.
   */
  outline?: number;
  /**
   * Draw a box behind the text instead of an outline.
   */
  box?: boolean;
  /**
   * Colour of the box, #rrggbb (default #000000, drawn at 60% opacity).
   */
  box_color?: string;
}
/**
 * A title, chapter or end card: a generated segment of the cut with text on a colour or an image.
 */
export interface Card {
  /**
   * The words on the card; a line break starts a new line.
   */
  text: string;
  /**
   * Seconds the card lasts; it lengthens the cut by as much.
   */
  duration: number;
  /**
   * Where the card plays: start (default), end, { before: <shot id> } or { after: <shot id> }. Transitions next to a card are cuts.
   */
  at?:
    | ('start' | 'end')
    | {
        /**
         * The id of the shot the card plays before.
         */
        before: string;
      }
    | {
        /**
         * The id of the shot the card plays after.
         */
        after: string;
      };
  /**
   * A colour #rrggbb (default #000000), or { image: file } (relative to the manifest), scaled to the output like a clip.
   */
  background?:
    | string
    | {
        /**
         * An image file relative to the manifest (inside its folder unless --allow-outside), shown for the whole card.
         */
        image: string;
      };
  /**
   * Text colour #rrggbb (default #ffffff).
   */
  color?: string;
  /**
   * Seconds of fade from and to black at each end of the card (default 0).
   */
  fade?: number;
  /**
   * Only in these variants (names from variants); default every variant.
   *
   * @minItems 1
   */
  variants?: [string, ...string[]];
}
/**
 * An image laid over the cut.
 */
export interface Overlay {
  /**
   * Path of the image (PNG with transparency works best), relative to the manifest, inside its folder unless --allow-outside.
   */
  file: string;
  /**
   * Where it sits (default top-right); ignored when x and y are given.
   */
  corner?: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
  /**
   * Left edge as a share of the frame width (0-1); give y too.
   */
  x?: number;
  /**
   * Top edge as a share of the frame height (0-1); give x too.
   */
  y?: number;
  /**
   * Width as a share of the frame width (default 0.15); the height keeps the image's aspect.
   */
  width?: number;
  /**
   * Gap to the corner's edges as a share of the frame width (default 0.03).
   */
  margin?: number;
  /**
   * 0 (invisible) to 1 (opaque, the default).
   */
  opacity?: number;
  /**
   * Seconds of the cut where it appears (default 0).
   */
  start?: number;
  /**
   * Seconds of the cut where it goes (default: the end).
   */
  end?: number;
  /**
   * Variant names this applies to (default: every variant).
   *
   * @minItems 1
   */
  variants?: [string, ...string[]];
}
/**
 * A deliverable of your own: its name, size, frame rate and encoding.
 */
export interface CustomExport {
  /**
   * Put before the final's extension: final.vertical.<name>.mp4. Letters, digits, - and _. A preset's name starts from that preset (e.g. { name: tiktok, variants: [vertical] }); the fields given override it.
   */
  name: string;
  /**
   * WIDTHxHEIGHT (default the final's size); clips are fitted as stitch.fit says, upscaled with lanczos.
   */
  size?: string;
  /**
   * Frame rate (default 30).
   */
  fps?: number;
  /**
   * h264 (libx264, High profile; default) or h265 (libx265).
   */
  codec?: 'h264' | 'h265';
  /**
   * Constant quality (0-51, lower is better; default 18). Not with bitrate.
   */
  crf?: number;
  /**
   * Video bitrate instead of crf, e.g. 8M or 4500k.
   */
  bitrate?: string;
  /**
   * AAC bitrate, e.g. 192k (default 192k).
   */
  audio_bitrate?: string;
  loudness?: Loudness;
  /**
   * Make it for these variants only (default every variant).
   *
   * @minItems 1
   */
  variants?: [string, ...string[]];
}
