/** Opens the upload target a manifest's `uploads` section names. */
import { UsageError } from '../errors.js';
import type { LoadedManifest } from '../manifest/load.js';
import type { ShotlistManifest } from '../manifest/types.gen.js';
import { commandTarget } from './command-target.js';
import type { UploadTarget } from './target.js';

type Uploads = NonNullable<ShotlistManifest['uploads']>;

/** An argv as one line a person can read (and paste): odd arguments quoted. */
export function describeCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./{}-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** The program a manifest's uploads would run, if any. */
export function uploadCommandOf(uploads: ShotlistManifest['uploads']): string[] | undefined {
  return uploads?.provider === 'command' ? (uploads.command ?? []) : undefined;
}

/**
 * A manifest may come from anyone (a repository, a colleague): the program its `uploads`
 * name runs with this user's rights, so it runs only when the user allowed it outside the
 * manifest. Refuses (exit 2, before anything is sent or uploaded) otherwise.
 */
export function refuseUnallowedCommand(
  loaded: Pick<LoadedManifest, 'file' | 'manifest' | 'source'>,
  allowCommand: boolean,
): void {
  const argv = uploadCommandOf(loaded.manifest.uploads);
  if (argv === undefined || allowCommand) return;
  const at = loaded.source.locate(['uploads', 'command']);
  throw new UsageError(
    `${loaded.file}:${at.line}:${at.col}: the manifest's uploads run a program on this machine: ${describeCommand(argv)}; it was not run and nothing was sent`,
    { kind: 'allow_command', rehearse: true },
  );
}

/** What opening an upload target needs beyond the manifest. */
export interface UploadTargetOptions {
  /** The user allowed the manifest's upload command (`--allow-command`). */
  allowCommand: boolean;
  /** More variables holding keys (an accounts file's `key_env`s): the command never sees them. */
  secretVars?: readonly string[];
}

export async function openUploadTarget(
  uploads: ShotlistManifest['uploads'],
  env: NodeJS.ProcessEnv,
  options: UploadTargetOptions,
): Promise<UploadTarget> {
  if (!uploads) {
    throw new UsageError('the manifest names local files but has no uploads section', {
      kind: 'add_uploads',
    });
  }
  if (uploads.provider === 'command') {
    const argv = uploads.command ?? [];
    if (!options.allowCommand) {
      throw new UsageError(
        `the manifest's uploads run a program: ${describeCommand(argv)}; it was not run`,
        { kind: 'allow_command', rehearse: false },
      );
    }
    return commandTarget(argv, uploads.public_url, env, options.secretVars ?? []);
  }
  // The AWS SDK is large: it is loaded only when an s3 upload happens.
  const { s3Target } = await import('./s3-target.js');
  return s3Target(uploads as Uploads & { bucket: string }, env);
}
