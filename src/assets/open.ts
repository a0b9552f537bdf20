/** Opens the upload target a manifest's `uploads` section names. */
import { UsageError } from '../errors.js';
import type { ShotlistManifest } from '../manifest/types.gen.js';
import { commandTarget } from './command-target.js';
import type { UploadTarget } from './target.js';

type Uploads = NonNullable<ShotlistManifest['uploads']>;

export async function openUploadTarget(
  uploads: ShotlistManifest['uploads'],
  env: NodeJS.ProcessEnv,
): Promise<UploadTarget> {
  if (!uploads) {
    throw new UsageError(
      'the manifest names local files but has no uploads section',
      'add uploads: (provider s3 or command), or rehearse with --simulate',
    );
  }
  if (uploads.provider === 'command')
    return commandTarget(uploads.command ?? [], uploads.public_url, env);
  // The AWS SDK is large: it is loaded only when an s3 upload happens.
  const { s3Target } = await import('./s3-target.js');
  return s3Target(uploads as Uploads & { bucket: string }, env);
}
