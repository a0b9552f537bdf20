/**
 * Commands that never reach a server load neither undici (the HTTP client) nor Ajv (the
 * manifest is checked by the validator built with the package), and those that run no ffmpeg
 * do not load execa: each costs a tenth of a second of CPU or more at every start. A run
 * loads undici and execa, so the traces are proven to see them.
 *
 * The bin runs the bundled CLI: a chunk it loads stands for every source file bundled into it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { sourcesOf } from '../helpers/bundle.js';
import { BIN, CHILD_DEADLINE_MS, tempDir } from '../helpers/cli.js';
import { writeManifest } from './run-helpers.js';

const tmp = tempDir('shotlist-lazy-deps-');
afterAll(() => tmp.cleanup());

const HOOK = path.resolve(import.meta.dirname, '../helpers/loaded-modules.mjs');
// Every ES module the process resolves (execa is one), a line each.
const ESM_HOOK = path.resolve(import.meta.dirname, '../team/fixtures/trace-imports.mjs');

/** The files under node_modules the built CLI loaded for `args`, once it exited 0. */
async function filesLoaded(name: string, args: string[]): Promise<string[]> {
  const out = path.join(tmp.dir, `${name}.loaded`);
  const esm = path.join(tmp.dir, `${name}.imports`);
  writeFileSync(esm, '');
  const r = await execa(process.execPath, ['--import', HOOK, '--import', ESM_HOOK, BIN, ...args], {
    reject: false,
    cwd: tmp.dir,
    env: { SHOTLIST_LOADED_OUT: out, TRACE_IMPORTS: esm, CI: 'true', NO_COLOR: '1' },
    timeout: CHILD_DEADLINE_MS,
  });
  expect(r.exitCode, `${name}: ${String(r.stderr)}`).toBe(0);
  return [...readFileSync(out, 'utf8').split('\n'), ...readFileSync(esm, 'utf8').split('\n')]
    .filter((f) => f !== '')
    .flatMap(sourcesOf)
    .filter((f) => f.includes('/node_modules/'));
}

const undici = (files: string[]) => files.filter((f) => f.includes('/node_modules/undici/'));
const execaFiles = (files: string[]) => files.filter((f) => f.includes('/node_modules/execa/'));
// The built validator needs a file of Ajv's runtime; Ajv itself is its compiler.
const ajv = (files: string[]) =>
  files.filter((f) => /\/node_modules\/ajv\/dist\/(?!runtime\/)/.test(f));

it('validate, plan, status, cost and stitch load neither undici nor Ajv, nor execa but stitch; run loads both', async () => {
  const manifest = writeManifest(tmp.dir, 2);
  const out = path.join(tmp.dir, 'renders');
  const at = [manifest, '--simulate', '--out', out];
  const run = await filesLoaded('run', ['run', ...at, '--yes', '--sim-latency', '0']);
  expect(undici(run)).not.toEqual([]);
  expect(execaFiles(run)).not.toEqual([]);
  for (const args of [
    ['validate', manifest],
    ['plan', ...at, '--json'],
    ['status', ...at, '--json'],
    ['cost', manifest, '--out', out, '--json'],
    ['stitch', ...at, '--json'],
  ]) {
    const files = await filesLoaded(args[0]!, args);
    expect(
      files.some((f) => f.includes('/node_modules/yaml/')),
      `${args[0]} parses YAML`,
    ).toBe(true);
    expect(undici(files), `${args[0]} loads undici`).toEqual([]);
    expect(ajv(files), `${args[0]} loads Ajv`).toEqual([]);
    // stitch runs ffmpeg: it alone needs execa.
    if (args[0] !== 'stitch') expect(execaFiles(files), `${args[0]} loads execa`).toEqual([]);
  }
});
