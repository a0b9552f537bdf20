/** The simulator's asset origin: PUT, HEAD and GET on `<sim base>/assets/<key>`. */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { ShotlistError } from '../errors.js';
import type { LocalAsset } from './local.js';
import type { UploadTarget } from './target.js';

/** Uploads to `<origin>/assets/<key>` with plain HTTP (no credentials of any kind). */
export function httpAssetTarget(origin: string): UploadTarget {
  const url = (asset: LocalAsset) => `${origin.replace(/\/+$/, '')}/assets/${asset.key}`;
  return {
    async exists(asset) {
      const res = await fetch(url(asset), { method: 'HEAD' });
      return res.ok;
    },
    async put(asset) {
      const res = await fetch(url(asset), {
        method: 'PUT',
        headers: { 'content-type': asset.contentType, 'content-length': String(asset.bytes) },
        body: Readable.toWeb(createReadStream(asset.file)) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      await res.body?.cancel();
      if (!res.ok) {
        throw new ShotlistError(`uploading ${asset.refs[0]} failed: HTTP ${res.status}`, {
          code: 'upload_failed',
          fix: 'check the upload target, then run again: uploaded files are kept',
        });
      }
    },
  };
}
