export type ToolName = 'ffmpeg' | 'ffprobe';
export type ToolSource = 'env' | 'path' | 'bundled';
export interface LocatedTool {
  name: ToolName;
  path: string;
  source: ToolSource;
}
/**
 * Finds ffmpeg or ffprobe: `FFMPEG_PATH`/`FFPROBE_PATH`, then the PATH, then the optional
 * npm packages that ship the binaries. Throws a MediaError saying how to get one.
 */
export declare function locateTool(name: ToolName, env?: NodeJS.ProcessEnv): LocatedTool;
export interface FfmpegFeatures {
  path: string;
  source: ToolSource;
  /** The version string ffmpeg prints, e.g. `5.1.6-0+deb12u1` or `N-47683-g0e8eb07980-static`. */
  version: string;
  filters: ReadonlySet<string>;
  encoders: ReadonlySet<string>;
}
/** Asks an ffmpeg binary what it can do: its version, filters and encoders. Cached per binary. */
export declare function detectFeatures(tool: LocatedTool): Promise<FfmpegFeatures>;
