import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { servePngFolder, type PngFolderServer } from '../helpers/chains.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { makeImage } from '../helpers/tools.js';
import { KEY, childEnv, runArgs } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;
let storage: PngFolderServer | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-upload-command-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await storage?.close();
  storage = undefined;
  tmp.cleanup();
});

const POOL_KEY = 'sk-pool-main-5b0e7d13aa';
const TEAM = 'redis://:team-secret-pw@127.0.0.1:1/0';

/**
 * A manifest from someone else: its upload command leaves a marker, dumps its environment
 * next to it and copies the file where the upload would go.
 */
function writeFilm(
  dir: string,
  origin = 'http://127.0.0.1:9',
): { manifest: string; marker: string; envDump: string } {
  const refs = path.join(dir, 'refs');
  mkdirSync(refs);
  makeImage(path.join(refs, 'a.png'), 'red');
  const marker = path.join(dir, 'RAN');
  const envDump = path.join(dir, 'env.json');
  const script = `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(marker)}, 'ran'); fs.writeFileSync(${JSON.stringify(envDump)}, JSON.stringify(process.env)); fs.copyFileSync(process.argv[1], process.argv[2])`;
  const bucket = path.join(dir, 'bucket');
  mkdirSync(bucket, { recursive: true });
  const manifest = path.join(dir, 'film.yaml');
  writeFileSync(
    manifest,
    `version: 1
name: film
defaults: { model: seedance-2-official, duration: 4, ratio: '16:9', size: 480p }
uploads:
  provider: command
  command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(script)}, "{file}", ${JSON.stringify(`${bucket}/{key}`)}]
  public_url: ${origin}/{key}
shots:
  - id: s01
    prompt: 橘猫
    assets: { images: [./refs/a.png] }
`,
  );
  return { manifest, marker, envDump };
}

function writeAccounts(dir: string, base: string): string {
  const file = path.join(dir, 'accounts.yaml');
  writeFileSync(
    file,
    `accounts:\n  - { name: main, base_url: '${base}', key_env: SHOTLIST_KEY_MAIN, concurrency: 2 }\n`,
  );
  return file;
}

/** The secrets an upload command must not find in its environment. */
function expectNoSecrets(envDump: string): Record<string, string> {
  const env = JSON.parse(readFileSync(envDump, 'utf8')) as Record<string, string>;
  for (const name of ['SHOTLIST_API_KEY', 'API_KEY', 'SHOTLIST_KEY_MAIN', 'SHOTLIST_TEAM'])
    expect(env[name], name).toBeUndefined();
  const text = JSON.stringify(env);
  for (const secret of [KEY, POOL_KEY, 'team-secret-pw']) expect(text).not.toContain(secret);
  return env;
}

describe('a manifest whose uploads run a command (built bin)', () => {
  it('run, upload and enqueue refuse it without --allow-command: exit 2, the command named, nothing run or sent', async () => {
    const { manifest, marker } = writeFilm(tmp.dir);
    sim = await startSimulator({ apiKey: KEY, latency: 0 });
    const out = path.join(tmp.dir, 'out');
    const attempts = [
      runArgs(manifest, sim, out, '--no-preflight'),
      ['upload', manifest],
      ['enqueue', manifest, '--team', 'redis://127.0.0.1:1/0', '--base-url', sim.url, '--yes'],
    ];
    for (const args of attempts) {
      const r = await shotlist(args, {
        env: { ...childEnv, SHOTLIST_ALLOW_COMMAND: 'yes please' },
      });
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/film\.yaml:6:\d+: the manifest's uploads run a program/);
      expect(r.stderr).toContain(process.execPath);
      expect(r.stderr).toContain('--allow-command (or SHOTLIST_ALLOW_COMMAND=1 in your shell');
      expect(existsSync(marker)).toBe(false);
    }
    expect(sim.ledger().submissions).toHaveLength(0);

    // A dry run sends nothing and runs nothing: it shows the command instead.
    const dry = await shotlist(['run', manifest, '--dry-run', '--base-url', sim.url], {
      env: childEnv,
    });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('uploads run this command of the manifest (not in a dry run): ');
    expect(existsSync(marker)).toBe(false);
  });

  it('with --allow-command the run shows the command before it goes, runs it without any key or team URL in its environment', async () => {
    const { manifest, marker, envDump } = writeFilm(
      tmp.dir,
      (storage = await servePngFolder(path.join(tmp.dir, 'bucket'))).url,
    );
    sim = await startSimulator({ apiKey: KEY, quota: { [POOL_KEY]: 100 }, latency: 0 });
    const accounts = writeAccounts(tmp.dir, sim.url);
    const r = await shotlist(
      [
        'run',
        manifest,
        '--accounts',
        accounts,
        '--out',
        path.join(tmp.dir, 'out'),
        '--yes',
        '--no-preflight',
        '--allow-command',
      ],
      { env: { ...childEnv, API_KEY: KEY, SHOTLIST_KEY_MAIN: POOL_KEY, STORAGE_TOKEN: 'kept' } },
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const preview = r.stdout.indexOf('uploads run this command of the manifest: ');
    expect(preview).toBeGreaterThanOrEqual(0);
    expect(preview).toBeLessThan(r.stdout.indexOf('uploaded 1'));
    expect(existsSync(marker)).toBe(true);
    expect(expectNoSecrets(envDump).STORAGE_TOKEN).toBe('kept');
    expect(sim.ledger().submissions).toHaveLength(1);
  });

  it('SHOTLIST_ALLOW_COMMAND=1 allows `upload`; the command never sees the keys of $SHOTLIST_ACCOUNTS nor SHOTLIST_TEAM', async () => {
    const { manifest, marker, envDump } = writeFilm(tmp.dir);
    const accounts = writeAccounts(tmp.dir, 'http://127.0.0.1:9');
    const r = await shotlist(['upload', manifest], {
      env: {
        ...childEnv,
        API_KEY: KEY,
        SHOTLIST_ALLOW_COMMAND: '1',
        SHOTLIST_ACCOUNTS: accounts,
        SHOTLIST_KEY_MAIN: POOL_KEY,
        SHOTLIST_TEAM: TEAM,
      },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('uploaded 1, already there 0');
    expect(existsSync(marker)).toBe(true);
    expectNoSecrets(envDump);
  });
});
