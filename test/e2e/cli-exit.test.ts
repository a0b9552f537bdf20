import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLES, shotlist, spawnShotlist, tempDir } from '../helpers/cli.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** A manifest whose dry run prints far more than a pipe buffer holds. */
function bigManifest(dir: string): string {
  const shots = Array.from(
    { length: 400 },
    (_, i) =>
      `  - id: s${i}\n    prompt: "${'a slow pan over the harbour at dawn, '.repeat(20)}${i}"`,
  );
  const file = path.join(dir, 'big.yaml');
  writeFileSync(
    file,
    `version: 1\nname: big\ndefaults: { model: seedance-2-official, duration: 4 }\nshots:\n${shots.join('\n')}\n`,
  );
  return file;
}

describe('how the CLI ends', () => {
  it('stops quietly when its reader closes the pipe (run --dry-run | head)', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const child = spawnShotlist(['run', '--dry-run', '--simulate', bigManifest(t.dir)], {
      cwd: t.dir,
    });
    const head = child.pipe('head', ['-c', '20'], { reject: false });
    const [source, sink] = await Promise.all([child, head]);
    expect(String(sink.stdout)).toHaveLength(20);
    expect(String(source.stderr)).not.toMatch(/EPIPE|Unhandled/);
    expect(source.exitCode).toBe(0);
  });

  it('names the path and exits 70 when the output folder cannot be used', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    writeFileSync(path.join(t.dir, 'afile'), '');
    const r = await shotlist(
      ['run', '--simulate', '--yes', '--out', 'afile/sub', path.join(EXAMPLES, 'quickstart.yaml')],
      { cwd: t.dir },
    );
    expect(r.exitCode).toBe(70);
    expect(r.stderr).toMatch(/error: cannot use .*afile\/sub.*ENOTDIR/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
