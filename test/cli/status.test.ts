import { PassThrough } from 'node:stream';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runManifest } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { writeManifest } from '../e2e/run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('shotlist-status-');
});
afterEach(() => tmp.cleanup());

/** Runs the CLI in-process with a fake context; returns the exit code and what it printed. */
async function cli(argv: string[], cwd: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const code = await main(argv, { stdout, stderr, cwd, env: { PATH: process.env.PATH } });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('shotlist status (in-process through main)', () => {
  it('reads a simulated run: the manifest against ctx.cwd, renders/<name>.simulated next to it', async () => {
    writeManifest(tmp.dir, 2);
    const run = await runManifest('film.yaml', {
      cwd: tmp.dir,
      env: { PATH: process.env.PATH },
      simulate: true,
      simLatency: '0',
      only: ['s01'],
    });
    expect(run.exitCode).toBe(0);

    const r = await cli(['status', 'film.yaml', '--simulate', '--json'], tmp.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      out: string;
      shots: { id: string; state: string }[];
    };
    expect(doc.out).toBe(path.join(tmp.dir, 'renders', 'film.simulated'));
    expect(doc.shots.map((s) => `${s.id}:${s.state}`)).toEqual(['s01:cached', 's02:new']);

    const only = await cli(['status', 'film.yaml', '--simulate', '--only', 's01'], tmp.dir);
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/s01\s+done \(cached\)/);
  });
});
