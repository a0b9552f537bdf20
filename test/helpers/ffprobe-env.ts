import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * The environment the test runs give every test and child CLI: FFPROBE_PATH set to the
 * static ffprobe of the optional `@ffprobe-installer/ffprobe` package, the product's own
 * fallback build. A distro ffprobe loads about 200 shared libraries before it reads a byte
 * (0.18 CPU s a start, against 0.02 for the static build), and a full test run probes over two
 * thousand clips. Nothing is set when FFPROBE_PATH is already set (the tests then run on that
 * build) or when the package is missing or its binary does not run here (then the PATH's).
 */
export function fastProbeEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.FFPROBE_PATH) return {};
  try {
    const file = (createRequire(import.meta.url)('@ffprobe-installer/ffprobe') as { path: string })
      .path;
    execFileSync(file, ['-hide_banner', '-version'], { stdio: 'ignore', timeout: 30_000 });
    return { FFPROBE_PATH: file };
  } catch {
    return {};
  }
}
