import { readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { featuresCacheFile } from '../../src/media/features-cache.js';
import { detectFeatures, forgetFeatures } from '../../src/media/locate.js';
import { tempDir } from './helpers.js';

/** A stand-in ffmpeg that answers the three questions and counts how often it was asked. */
const FAKE = `#!/bin/sh
echo x >> "$(dirname "$0")/asked"
case "$2" in
  -version) echo "ffmpeg version 9.9-fake Copyright";;
  -filters) printf ' ... xfade             VV->V      Cross fade\\n ... drawtext          V->V       Text\\n';;
  -encoders) printf ' V....D libx264              H.264\\n A....D aac                  AAC\\n';;
esac
`;

describe('ffmpeg features are remembered between runs', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let ffmpeg: string;
  let env: NodeJS.ProcessEnv;
  const asked = async (): Promise<number> =>
    (await readFile(path.join(dir, 'asked'), 'utf8').catch(() => '')).split('\n').length - 1;
  const detect = async () => {
    forgetFeatures(); // a new process
    return detectFeatures({ name: 'ffmpeg', path: ffmpeg, source: 'env' }, env);
  };

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('shotlist-features-'));
    ffmpeg = path.join(dir, 'ffmpeg');
    await writeFile(ffmpeg, FAKE, { mode: 0o755 });
    env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
  });
  afterEach(() => cleanup());

  it('asks the binary once, then reads the cache file', async () => {
    const first = await detect();
    expect(await asked()).toBe(3);
    const second = await detect();
    expect(await asked()).toBe(3);
    for (const features of [first, second]) {
      expect(features.version).toBe('9.9-fake');
      expect([...features.filters]).toEqual(['xfade', 'drawtext']);
      expect([...features.encoders]).toEqual(['libx264', 'aac']);
    }
    expect(featuresCacheFile(env)).toBe(
      path.join(dir, 'cache', 'shotlist', 'ffmpeg-features.json'),
    );
  });

  it('asks again when the binary changes', async () => {
    await detect();
    await writeFile(ffmpeg, FAKE.replace('9.9-fake', '10.0-fake'), { mode: 0o755 });
    expect((await detect()).version).toBe('10.0-fake');
    expect(await asked()).toBe(6);
    // Same size, another modification time: still another binary.
    await utimes(ffmpeg, new Date(), new Date(Date.now() + 5000));
    await detect();
    expect(await asked()).toBe(9);
  });

  it('a broken or unwritable cache only means asking the binary', async () => {
    const file = featuresCacheFile(env)!;
    await detect();
    await writeFile(file, '{"format":1,"tools":{"x":');
    expect((await detect()).version).toBe('9.9-fake');
    expect(await asked()).toBe(6);
    // Entries of the wrong shape are not believed.
    const stamped = JSON.parse(await readFile(file, 'utf8')) as {
      tools: Record<string, { filters: unknown }>;
    };
    stamped.tools[ffmpeg]!.filters = 'xfade';
    await writeFile(file, JSON.stringify(stamped));
    expect([...(await detect()).filters]).toEqual(['xfade', 'drawtext']);
    expect(await asked()).toBe(9);
    // A cache folder that cannot be made (a file is in the way).
    await writeFile(path.join(dir, 'blocked'), '');
    env = { ...env, XDG_CACHE_HOME: path.join(dir, 'blocked') };
    expect((await detect()).version).toBe('9.9-fake');
    expect((await detect()).version).toBe('9.9-fake');
    expect(await asked()).toBe(15);
  });
});
