/**
 * How a deliverable is encoded: codec, quality, speed, scaler. Pure: the ffmpeg arguments of an
 * encoding, and the check that the ffmpeg at hand has what it names.
 */
import { MediaError } from '../errors.js';

export interface StitchEncoding {
  codec: 'h264' | 'h265';
  /** Constant quality; ignored when `bitrate` is set. */
  crf?: number;
  /** Target video bitrate, e.g. `8M`. */
  bitrate?: string;
  /** The x264/x265 speed preset. */
  preset: string;
  /** H.264 profile, e.g. `high`. */
  profile?: string;
  /** AAC bitrate, e.g. `192k`. */
  audioBitrate: string;
  /** The scaler that fits clips into the frame (`lanczos` for deliverables, fast for drafts). */
  scaler: 'lanczos' | 'bicubic' | 'fast_bilinear';
}

const ENCODERS = { h264: 'libx264', h265: 'libx265' } as const;

/** The video encoder's arguments for an encoding. */
export function videoArgs(encoding: StitchEncoding): string[] {
  const rate = encoding.bitrate
    ? [
        '-b:v',
        encoding.bitrate,
        '-maxrate',
        encoding.bitrate,
        '-bufsize',
        doubled(encoding.bitrate),
      ]
    : ['-crf', String(encoding.crf ?? 18)];
  return [
    ...['-c:v', ENCODERS[encoding.codec], ...rate, '-preset', encoding.preset],
    ...(encoding.profile ? ['-profile:v', encoding.profile] : []),
    // Apple players want HEVC in MP4 tagged hvc1 to play it.
    ...(encoding.codec === 'h265' ? ['-tag:v', 'hvc1'] : []),
  ];
}

function doubled(bitrate: string): string {
  const m = /^(\d+(?:\.\d+)?)([kM])$/.exec(bitrate);
  return m ? `${Number(m[1]) * 2}${m[2]}` : bitrate;
}

/**
 * Refuses an encoding or a filter this ffmpeg lacks, naming it and how to get it, before ffmpeg
 * would fail with its own words.
 */
export function checkTools(
  features: { filters: ReadonlySet<string>; encoders?: ReadonlySet<string> },
  needs: { encoding?: StitchEncoding; filters: readonly string[] },
  tool: string,
): void {
  const encoder = needs.encoding ? ENCODERS[needs.encoding.codec] : undefined;
  if (encoder && features.encoders && !features.encoders.has(encoder)) {
    throw new MediaError(`${tool} has no ${encoder} encoder`, {
      code: 'tool_feature_missing',
      fix: `install an ffmpeg built with ${encoder} (Debian: apt-get install ffmpeg) or set FFMPEG_PATH`,
    });
  }
  const missing = needs.filters.filter((f) => !features.filters.has(f));
  if (missing.length > 0) {
    throw new MediaError(
      `${tool} has no ${missing.join(', ')} filter${missing.length === 1 ? '' : 's'}`,
      {
        code: 'tool_feature_missing',
        fix: 'install a recent ffmpeg (Debian: apt-get install ffmpeg) or set FFMPEG_PATH to one that has it',
      },
    );
  }
}
