import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readShardMark, shardOfFolderName, writeShardMark } from '../../src/pipeline/shard-mark.js';
import { tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-shard-mark-');
});
afterEach(() => tmp.cleanup());

it('writes the shard a folder renders and reads it back', async () => {
  const dir = path.join(tmp.dir, 'out');
  await writeShardMark(dir, { index: 2, count: 3 });
  expect(await readShardMark(dir)).toEqual({ index: 2, count: 3 });
  expect(await readShardMark(tmp.dir)).toBeUndefined();
});

it('follows no link and rejects a malformed or impossible shard', async () => {
  const outside = path.join(tmp.dir, 'outside.json');
  writeFileSync(outside, '{"shard":"1/2"}');
  const linked = path.join(tmp.dir, 'linked');
  mkdirSync(linked);
  symlinkSync(outside, path.join(linked, 'shard.json'));
  expect(await readShardMark(linked)).toBeUndefined();
  const bad = path.join(tmp.dir, 'bad');
  mkdirSync(bad);
  writeFileSync(path.join(bad, 'shard.json'), '{"shard":"4/3"}');
  await expect(readShardMark(bad)).rejects.toThrow(/not a shard i\/n/);
});

it('reads the shard from a default shard folder name only', () => {
  expect(shardOfFolderName('/r/film.shard-2-of-3')).toEqual({ index: 2, count: 3 });
  expect(shardOfFolderName('/r/shard-1-of-2')).toEqual({ index: 1, count: 2 });
  expect(shardOfFolderName('/r/shard-1')).toBeUndefined();
  expect(shardOfFolderName('/r/film.shard-3-of-2')).toBeUndefined();
});
