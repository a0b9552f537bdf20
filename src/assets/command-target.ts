/** The `command` provider: your own upload command, run without a shell. */
import { ShotlistError } from '../errors.js';
import { loadExeca } from '../media/execa.js';
import { publicUrl, type LocalAsset } from './local.js';
import type { UploadTarget } from './target.js';

/**
 * Environment variables an upload command never sees: the API keys and the team's Redis URL.
 * (The command could still read the parent's environment through /proc: the real guard is
 * that it runs only when the user allowed it, see open.ts.)
 */
const HIDDEN_VARS = ['SHOTLIST_API_KEY', 'API_KEY', 'SHOTLIST_TEAM'];

/** The argv with `{file}`, `{key}` and `{content_type}` replaced; each argument stays one argument. */
export function commandArgv(template: readonly string[], asset: LocalAsset): string[] {
  return template.map((arg) =>
    arg
      .replaceAll('{file}', asset.file)
      .replaceAll('{key}', asset.key)
      .replaceAll('{content_type}', asset.contentType),
  );
}

/** Whether the public URL already answers: the object is there, whoever put it. */
export async function publicUrlAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(10_000) });
    return res.ok;
  } catch {
    return false;
  }
}

export function commandTarget(
  template: readonly string[],
  urlTemplate: string,
  env: NodeJS.ProcessEnv,
  secretVars: readonly string[] = [],
): UploadTarget {
  const hidden = new Set([...HIDDEN_VARS, ...secretVars]);
  const childEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !hidden.has(name)));
  return {
    exists: (asset) => publicUrlAnswers(publicUrl(urlTemplate, asset.key)),
    async put(asset) {
      const [file, ...args] = commandArgv(template, asset);
      const execa = await loadExeca();
      const result = await execa(file!, args, {
        env: childEnv,
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
      });
      if (result.exitCode !== 0 || result.failed) {
        const tail = String(result.stderr ?? '')
          .trim()
          .split('\n')
          .slice(-3)
          .join(' | ');
        throw new ShotlistError(
          `the upload command failed for ${asset.refs[0]} (exit ${result.exitCode ?? 'none'})${tail ? `: ${tail}` : ''}`,
          {
            code: 'upload_failed',
            fix: 'check uploads.command in the manifest; run it by hand on one file to see why',
          },
        );
      }
    },
  };
}
