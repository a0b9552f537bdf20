/**
 * The shard a folder was rendered as: `run --shard i/n` writes `shard.json` into its output
 * folder before its first submission, so `merge --manifest` can check that the folder holds
 * only that shard's requests. The file is untrusted like the rest of the folder: it is a claim
 * the merge checks against the manifest, never a reason to accept a line.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { O_NOFOLLOW, insideRoot, regularFile, writeFileAtomic } from '../safe-fs.js';
import { parseShard, type ShardSpec } from './shard.js';

export const SHARD_FILE = 'shard.json';

/** Records `spec` in `outDir` (atomically), unless the folder already says the same. */
export async function writeShardMark(outDir: string, spec: ShardSpec): Promise<void> {
  const text = `${JSON.stringify({ shard: `${spec.index}/${spec.count}` })}\n`;
  const now = await readShardMark(outDir).catch(() => undefined);
  if (now?.index === spec.index && now.count === spec.count) return;
  await writeFileAtomic(outDir, SHARD_FILE, text);
}

/** A folder named `…shard-<i>-of-<n>` (the default output folder of `run --shard i/n`). */
export function shardOfFolderName(dir: string): ShardSpec | undefined {
  const m = /(?:^|[^0-9a-z])shard-(\d{1,6})-of-(\d{1,6})$/i.exec(path.basename(dir));
  if (!m) return undefined;
  try {
    return parseShard(`${m[1]}/${m[2]}`);
  } catch {
    return undefined;
  }
}

/**
 * The shard `dir` says it holds: its `shard.json` (a plain file, never a link), else
 * undefined. A file that is there but unreadable or malformed throws.
 */
export async function readShardMark(dir: string): Promise<ShardSpec | undefined> {
  const info = await regularFile(dir, SHARD_FILE);
  if (!info) return undefined;
  if (info.size > 4096) throw new Error(`${SHARD_FILE} is ${info.size} bytes, not a shard mark`);
  const flags = constants.O_RDONLY | O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(insideRoot(dir, SHARD_FILE), flags);
  let text: string;
  try {
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  const doc = JSON.parse(text) as { shard?: unknown };
  if (typeof doc.shard !== 'string') throw new Error(`${SHARD_FILE} names no shard`);
  return parseShard(doc.shard);
}
