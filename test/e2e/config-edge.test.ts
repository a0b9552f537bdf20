/**
 * The command line checks its flags before the run starts: a bad value is refused with exit 2
 * naming the flag, before the plan is shown and before the output folder is made.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { shotlist, tempDir } from '../helpers/cli.js';
import { childEnv, writeManifest } from './run-helpers.js';

const tmp = tempDir('shotlist-config-edge-');
afterAll(() => tmp.cleanup());

it.each([
  [['--sim-latency', 'soon'], '--sim-latency: latency "soon" is not a time range'],
  [['--sim-latency', '6-2s'], '--sim-latency: latency "6-2s" ends before it starts'],
])('run --simulate %j: exit 2 before the plan, no output folder', async (flags, message) => {
  const dir = path.join(tmp.dir, flags.join('-').replace(/\W+/g, '_'));
  mkdirSync(dir, { recursive: true });
  const manifest = writeManifest(dir, 2);
  const out = path.join(dir, 'out');
  const r = await shotlist(['run', manifest, '--simulate', '--yes', '--out', out, ...flags], {
    cwd: dir,
    env: childEnv,
  });
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stderr).toContain('fix: write');
  // Refused before planning: no preview line, no folder.
  expect(r.stdout).not.toContain('film:');
  expect(existsSync(out)).toBe(false);
});

it('run --dry-run --listen against an API on another machine without --public-url: exit 2, as the real run', async () => {
  const dir = path.join(tmp.dir, 'listen-remote');
  mkdirSync(dir, { recursive: true });
  const manifest = writeManifest(dir, 2);
  const flags = ['--base-url', 'https://api.example.test/v1', '--listen', '0', '--out', 'out'];
  const env = { ...childEnv, SHOTLIST_API_KEY: 'sk-test-not-sent' };
  const dry = await shotlist(['run', manifest, '--dry-run', ...flags], { cwd: dir, env });
  expect(dry.exitCode).toBe(2);
  expect(dry.stderr).toContain('the API at api.example.test cannot call a receiver at');
  expect(dry.stderr).toContain('--public-url');
  // With the public URL the API can call, the dry run goes on.
  const ok = await shotlist(
    ['run', manifest, '--dry-run', ...flags, '--public-url', 'https://hooks.example.test/h'],
    { cwd: dir, env },
  );
  expect(ok.stderr).not.toContain('cannot call a receiver');
  expect(ok.exitCode).toBe(0);
});
