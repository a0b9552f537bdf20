import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MediaError } from '../errors.js';
import { loadExeca } from './execa.js';
import {
  binaryStamp,
  featuresCacheFile,
  recallFeatures,
  rememberFeatures,
  type KnownFeatures,
} from './features-cache.js';

export type ToolName = 'ffmpeg' | 'ffprobe';
export type ToolSource = 'env' | 'path' | 'bundled';

export interface LocatedTool {
  name: ToolName;
  path: string;
  source: ToolSource;
}

const ENV_VAR: Record<ToolName, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const PACKAGE: Record<ToolName, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The binary of the optional npm package that ships `name`, when it is installed and runs here. */
export function findBundled(name: ToolName): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const file = (require(PACKAGE[name]) as { path: string }).path;
    if (!isExecutable(file)) {
      // npm may skip the package's own `chmod` install script; the binary is ours to mark.
      chmodSync(file, 0o755);
    }
    return isExecutable(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds ffmpeg or ffprobe: `FFMPEG_PATH`/`FFPROBE_PATH`, then the PATH, then the optional
 * npm packages that ship the binaries. Throws a MediaError saying how to get one.
 */
export function locateTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): LocatedTool {
  const fromEnv = env[ENV_VAR[name]];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new MediaError(`${ENV_VAR[name]}=${fromEnv} is not an executable file`, {
        code: 'tool_missing',
        fix: `point ${ENV_VAR[name]} at a ${name} binary, or unset it to use the one on the PATH`,
      });
    }
    return { name, path: fromEnv, source: 'env' };
  }
  const onPath = findOnPath(name, env);
  if (onPath) return { name, path: onPath, source: 'path' };
  const bundled = findBundled(name);
  if (bundled) return { name, path: bundled, source: 'bundled' };
  throw new MediaError(`${name} was not found`, {
    code: 'tool_missing',
    fix: `install it (Debian: apt-get install ffmpeg), set ${ENV_VAR[name]}, or run npm install so the optional package ${PACKAGE[name]} is present`,
  });
}

export interface FfmpegFeatures {
  path: string;
  source: ToolSource;
  /** The version string ffmpeg prints, e.g. `5.1.6-0+deb12u1` or `N-47683-g0e8eb07980-static`. */
  version: string;
  filters: ReadonlySet<string>;
  encoders: ReadonlySet<string>;
}

const featureCache = new Map<string, Promise<FfmpegFeatures>>();

function parseNames(output: string, pattern: RegExp): Set<string> {
  const names = new Set<string>();
  for (const line of output.split('\n')) {
    const match = pattern.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

/** Runs the three questions (version, filters, encoders) against the binary. */
async function askFfmpeg(tool: LocatedTool): Promise<KnownFeatures> {
  const execa = await loadExeca();
  const [version, filters, encoders] = await Promise.all([
    execa(tool.path, ['-hide_banner', '-version'], { reject: false }),
    execa(tool.path, ['-hide_banner', '-filters'], { reject: false }),
    execa(tool.path, ['-hide_banner', '-encoders'], { reject: false }),
  ]);
  if (version.exitCode !== 0) {
    throw new MediaError(`${tool.path} -version failed`, {
      code: 'tool_broken',
      stderrTail: String(version.stderr).slice(-2000),
      fix: 'set FFMPEG_PATH to a working ffmpeg',
    });
  }
  return {
    version: /ffmpeg version (\S+)/.exec(String(version.stdout))?.[1] ?? 'unknown',
    filters: [...parseNames(String(filters.stdout), /^\s*[.A-Z|]{3}\s+(\w+)\s/)],
    encoders: [...parseNames(String(encoders.stdout), /^\s*[VAS][.A-Z]{5}\s+(\w+)\s/)],
  };
}

/**
 * Asks an ffmpeg binary what it can do: its version, filters and encoders. Cached per binary
 * in memory, and between runs in the user's cache folder (see features-cache.ts).
 */
export function detectFeatures(
  tool: LocatedTool,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FfmpegFeatures> {
  const cached = featureCache.get(tool.path);
  if (cached) return cached;
  const pending = (async (): Promise<FfmpegFeatures> => {
    const file = featuresCacheFile(env);
    const stamp = binaryStamp(tool.path);
    let known = file && stamp ? await recallFeatures(file, tool.path, stamp) : undefined;
    if (!known) {
      known = await askFfmpeg(tool);
      if (file && stamp) await rememberFeatures(file, tool.path, stamp, known);
    }
    return {
      path: tool.path,
      source: tool.source,
      version: known.version,
      filters: new Set(known.filters),
      encoders: new Set(known.encoders),
    };
  })();
  featureCache.set(tool.path, pending);
  pending.catch(() => featureCache.delete(tool.path));
  return pending;
}

/** Forgets the features remembered in this process (the cache file stays). */
export function forgetFeatures(): void {
  featureCache.clear();
}
