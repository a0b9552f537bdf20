/** Where local files go: one interface, one provider a file. */
import type { LocalAsset } from './local.js';

/** An upload target: asks whether a key exists, puts a file under a key. */
export interface UploadTarget {
  /** Whether the object is already there (HEAD by key); `undefined` when the target cannot tell. */
  exists(asset: LocalAsset): Promise<boolean | undefined>;
  /** Uploads the file under `asset.key`, streaming it. */
  put(asset: LocalAsset): Promise<void>;
  close?(): Promise<void>;
}
