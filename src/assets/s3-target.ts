/**
 * The `s3` provider: any S3-compatible storage through the AWS SDK v3. Credentials come only
 * from the standard AWS chain (environment, profile); none are read from the manifest or printed.
 */
import { createReadStream } from 'node:fs';
import { ShotlistError } from '../errors.js';
import type { ShotlistManifest } from '../manifest/types.gen.js';
import type { LocalAsset } from './local.js';
import type { UploadTarget } from './target.js';

type S3Uploads = NonNullable<ShotlistManifest['uploads']> & { bucket: string };

/** Files above this go up in parts (lib-storage): a large reference video never sits in memory. */
const PART_BYTES = 8 * 1024 * 1024;

function failed(asset: LocalAsset, error: unknown): ShotlistError {
  const err = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return new ShotlistError(
    `uploading ${asset.refs[0]} to the bucket failed: ${err.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}`,
    {
      code: 'upload_failed',
      fix: 'check uploads.bucket/endpoint/region and the AWS credentials in your environment or profile',
      cause: error,
    },
  );
}

export async function s3Target(uploads: S3Uploads, env: NodeJS.ProcessEnv): Promise<UploadTarget> {
  // The SDK warns on every start under Node 20; our engines field already says what we support.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client, HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const { Upload } = await import('@aws-sdk/lib-storage');
  const client = new S3Client({
    region: uploads.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(uploads.endpoint !== undefined ? { endpoint: uploads.endpoint } : {}),
    ...(uploads.path_style ? { forcePathStyle: true } : {}),
  });
  return {
    async exists(asset) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: uploads.bucket, Key: asset.key }));
        return true;
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata
          ?.httpStatusCode;
        if (status === 404 || (error as { name?: string }).name === 'NotFound') return false;
        throw failed(asset, error);
      }
    },
    async put(asset) {
      try {
        await new Upload({
          client,
          partSize: PART_BYTES,
          queueSize: 2,
          params: {
            Bucket: uploads.bucket,
            Key: asset.key,
            Body: createReadStream(asset.file),
            ContentType: asset.contentType,
            ContentLength: asset.bytes,
          },
        }).done();
      } catch (error) {
        throw failed(asset, error);
      }
    },
    close() {
      client.destroy();
      return Promise.resolve();
    },
  };
}
