import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { adviceText } from '../errors.js';

/** Whether a media reference in a manifest names a file on this machine (not a URL, not asset://). */
export function isLocalReference(ref: string): boolean {
  return !/^(https?|asset):\/\//i.test(ref);
}

/** Why a local file may not be read, and what to do about it. */
export interface LocalFileProblem {
  message: string;
  fix: string;
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
}

/**
 * Checks a local file a manifest names (`what` says which, e.g. "soundtrack file"): it exists,
 * is a regular file, and lies inside the manifest's folder tree after every symlink is
 * resolved, unless `allowOutside`. A manifest from a shared repository must not read (and
 * embed or upload) a private file elsewhere on the disk because it names one.
 */
export function checkLocalFile(
  ref: string,
  dir: string,
  what: string,
  allowOutside = false,
): LocalFileProblem | undefined {
  const wanted = path.resolve(dir, ref);
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    return {
      message: `${what} "${ref}" does not exist (looked for ${wanted})`,
      fix: `check the path; a relative path is read from the manifest's folder (${dir})`,
    };
  }
  if (!statSync(real).isFile()) {
    return {
      message: `${what} "${ref}" is not a file (${real})`,
      fix: 'name an audio or video file',
    };
  }
  if (!allowOutside && !inside(realpathSync(dir), real)) {
    const via = real === wanted ? '' : ` (it resolves to ${real})`;
    return {
      message: `${what} "${ref}" is outside the manifest's folder ${dir}${via}`,
      fix: adviceText({ kind: 'allow_outside', dir }),
    };
  }
  return undefined;
}
