import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateTool } from '../../src/media/locate.js';
import { shotlist, tempDir } from '../helpers/cli.js';

const KEY = 'sk-ffmpeg-tail-4c1d9e7a20b3';

describe('a failing ffmpeg, through the built CLI', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('shotlist-ffmpeg-cli-');
  });
  afterAll(() => tmp.cleanup());

  it('shows ffmpeg’s last lines, without escapes and without the key', async () => {
    // An ffmpeg that works for everything but the stitch, which it fails saying hostile things.
    const fake = path.join(tmp.dir, 'ffmpeg');
    const real = locateTool('ffmpeg').path;
    writeFileSync(
      fake,
      `#!/bin/sh
case "$*" in
  *final*.tmp.mp4*)
    for i in 1 2 3 4 5 6 7 8 9 10; do echo "noise line $i" >&2; done
    printf 'opening https://cdn.example/a.mp4?key=${KEY}\\n\\033]52;c;aGk=\\007Conversion failed: disk quota\\n' >&2
    exit 1;;
  *) exec "${real}" "$@";;
esac
`,
    );
    chmodSync(fake, 0o755);
    const manifest = path.join(tmp.dir, 'tail.yaml');
    writeFileSync(
      manifest,
      `version: 1\nname: tail\ndefaults: { duration: 4, audio: false }\nshots:\n  - { id: s1, prompt: a red door }\n  - { id: s2, prompt: a blue door }\n`,
    );
    const r = await shotlist(
      [
        'run',
        manifest,
        '--simulate',
        '--sim-latency',
        '0',
        '--yes',
        '--out',
        path.join(tmp.dir, 'out'),
      ],
      { env: { FFMPEG_PATH: fake, SHOTLIST_API_KEY: KEY, CI: 'true' }, cwd: tmp.dir },
    );
    const output = `${r.stdout}${r.stderr}`;
    expect(r.exitCode, output).toBe(1);
    expect(output).toMatch(/ffmpeg said:/);
    expect(output).toContain('Conversion failed: disk quota');
    expect(output).toContain('key=***');
    expect(output).not.toContain('noise line 1\n');
    expect(output).not.toContain(KEY);
    expect(output).not.toContain('\x1b');
  });
});
