import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { shotlist } from '../helpers/cli.js';
import { servePngFolder, type PngFolderServer } from '../helpers/chains.js';
import { makeImage } from '../helpers/tools.js';
import { runArgs } from '../e2e/run-helpers.js';
import { record } from './figures.js';
import { KEY, env, keyLeaks, useSimulator } from './common.js';

const POOL_KEY = 'sk-reliability-pool-2b9d4e61c7';
const bench = useSimulator('shotlist-untrusted-command-', {
  latency: 0,
  seed: 21,
  quota: { [POOL_KEY]: 1000 },
});
let storage: PngFolderServer | undefined;
afterAll(() => storage?.close());

/** Bytes of every file under `dir` that is not in `skip`: what a command could have left there. */
function bytesUnder(dir: string, skip: (file: string) => boolean): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(e.parentPath, e.name);
    if (!skip(file) && e.isFile()) sizes.set(file, lstatSync(file).size);
  }
  return sizes;
}

/** Bytes in files added or grown since `before`. */
function bytesAdded(before: Map<string, number>, after: Map<string, number>): number {
  let added = 0;
  for (const [file, size] of after) added += Math.max(0, size - (before.get(file) ?? 0));
  return added;
}

/**
 * A manifest from someone else: its upload command writes `loot/<tag>` beside the manifest with
 * the environment it was given, then copies the file to the storage folder.
 */
function writeFilm(dir: string, tag: string, origin: string, extra = ''): string {
  const loot = path.join(dir, 'loot', tag);
  const script = `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(loot)}, JSON.stringify(process.env)); fs.copyFileSync(process.argv[1], process.argv[2])`;
  const file = path.join(dir, `${tag}.yaml`);
  writeFileSync(
    file,
    `version: 1
name: ${tag}
defaults: { model: seedance-2-official, duration: 4, ratio: "16:9", size: 480p, audio: false }
uploads:
  provider: command
  command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(script)}, "{file}", ${JSON.stringify(`${dir}/bucket/{key}`)}]
  public_url: ${origin}/{key}
${extra}shots:
  - id: s01
    prompt: "Untrusted command ${tag}"
    assets: { images: [./refs/a.png] }
`,
  );
  return file;
}

it('untrusted upload command: no variant of run, upload or enqueue runs it without the opt-in; allowed, it sees no key', async () => {
  const { tmp, sim } = bench;
  for (const d of ['refs', 'loot', 'bucket']) mkdirSync(path.join(tmp.dir, d), { recursive: true });
  makeImage(path.join(tmp.dir, 'refs', 'a.png'), 'red');
  storage = await servePngFolder(path.join(tmp.dir, 'bucket'));
  const origin = storage.url;
  const accounts = path.join(tmp.dir, 'accounts.yaml');
  writeFileSync(
    accounts,
    `accounts:\n  - { name: main, base_url: '${sim.url}', key_env: SHOTLIST_KEY_MAIN, concurrency: 2 }\n`,
  );
  const out = (tag: string) => path.join(tmp.dir, 'out', tag);
  const secrets = { API_KEY: KEY, SHOTLIST_KEY_MAIN: POOL_KEY };
  // Each attempt: a manifest variant, the command line and the environment it is run with.
  const attempts: { tag: string; args: (m: string) => string[]; env?: Record<string, string> }[] = [
    { tag: 'run', args: (m) => runArgs(m, sim, out('run'), '--no-preflight') },
    { tag: 'upload', args: (m) => ['upload', m] },
    {
      tag: 'enqueue',
      args: (m) => [
        'enqueue',
        m,
        '--team',
        'redis://127.0.0.1:1/0',
        '--base-url',
        sim.url,
        '--yes',
      ],
    },
    {
      tag: 'pool',
      args: (m) => ['run', m, '--accounts', accounts, '--out', out('pool'), '--yes'],
      env: secrets,
    },
    { tag: 'env-yes', args: (m) => ['upload', m], env: { SHOTLIST_ALLOW_COMMAND: 'yes' } },
    {
      tag: 'env-true',
      args: (m) => runArgs(m, sim, out('env-true')),
      env: { SHOTLIST_ALLOW_COMMAND: 'true' },
    },
    {
      tag: 'retry-unknown',
      args: (m) => runArgs(m, sim, out('retry-unknown'), '--retry-unknown', '--force', 'all'),
    },
    { tag: 'shard', args: (m) => runArgs(m, sim, out('shard'), '--shard', '1/1') },
  ];
  // A .env beside the manifest (the working folder) is read for the key only, never for the opt-in.
  writeFileSync(path.join(tmp.dir, '.env'), 'SHOTLIST_ALLOW_COMMAND=1\n');
  const outputs: string[] = [];
  const failures: string[] = [];
  const outside = (f: string) =>
    f.startsWith(path.join(tmp.dir, 'out')) || f.includes('.simulator');
  const manifests = attempts.map((a) => writeFilm(tmp.dir, a.tag, origin));
  const before = bytesUnder(tmp.dir, outside);
  const submitted = sim.ledger().totals.submissions;
  let refused = 0;
  for (const [i, a] of attempts.entries()) {
    const r = await shotlist(a.args(manifests[i]!), { env: { ...env, ...a.env }, cwd: tmp.dir });
    outputs.push(r.stdout, r.stderr);
    const clear =
      r.exitCode === 2 &&
      r.stderr.includes(`${a.tag}.yaml:`) &&
      r.stderr.includes(process.execPath) &&
      r.stderr.includes('--allow-command (or SHOTLIST_ALLOW_COMMAND=1 in your shell');
    if (clear && !existsSync(path.join(tmp.dir, 'loot', a.tag))) refused++;
    else failures.push(`${a.tag}: exit ${r.exitCode}\n${r.stderr}`);
  }
  const touched = bytesAdded(before, bytesUnder(tmp.dir, outside));
  const refusedSubmissions = sim.ledger().totals.submissions - submitted;

  // Allowed by the user: the command runs once per file and finds no key in its environment.
  const allowed = [
    {
      tag: 'allowed-flag',
      args: (m: string) => [...runArgs(m, sim, out('allowed-flag')), '--allow-command'],
      env: { API_KEY: KEY },
    },
    {
      tag: 'allowed-pool',
      args: (m: string) => [
        'run',
        m,
        '--accounts',
        accounts,
        '--out',
        out('allowed-pool'),
        '--yes',
      ],
      env: { ...secrets, SHOTLIST_ALLOW_COMMAND: '1' },
    },
    {
      tag: 'allowed-upload',
      args: (m: string) => ['upload', m],
      env: {
        ...secrets,
        SHOTLIST_ALLOW_COMMAND: '1',
        SHOTLIST_ACCOUNTS: accounts,
        SHOTLIST_TEAM: 'redis://:team-pw-8c1f@127.0.0.1:1/0',
      },
    },
  ];
  let envLeaks = 0;
  const beforeAllowed = sim.ledger().totals.submissions;
  for (const a of allowed) {
    // An empty storage: the file is not already there, so the command runs.
    rmSync(path.join(tmp.dir, 'bucket'), { recursive: true });
    mkdirSync(path.join(tmp.dir, 'bucket'));
    const manifest = writeFilm(tmp.dir, a.tag, origin);
    const r = await shotlist(a.args(manifest), { env: { ...env, ...a.env }, cwd: tmp.dir });
    outputs.push(r.stdout, r.stderr);
    const loot = path.join(tmp.dir, 'loot', a.tag);
    if (r.exitCode !== 0 || !existsSync(loot)) {
      failures.push(`${a.tag}: exit ${r.exitCode}, command ran: ${existsSync(loot)}\n${r.stderr}`);
      continue;
    }
    const seen = readFileSync(loot, 'utf8');
    for (const secret of [KEY, POOL_KEY, 'team-pw-8c1f']) if (seen.includes(secret)) envLeaks++;
  }
  // Two runs of one shot each; the upload renders nothing.
  const extra = refusedSubmissions + (sim.ledger().totals.submissions - beforeAllowed - 2);

  const figures = {
    'attempts tried': attempts.length,
    refused,
    'bytes touched outside the output folder': touched,
    'extra submissions': extra,
    'key leaks': keyLeaks(outputs, path.join(tmp.dir, 'out')) + envLeaks,
    'allowed runs': allowed.length,
  };
  record('untrusted', 'untrusted upload command', failures.length === 0, figures);
  expect(failures).toEqual([]);
  expect(figures).toMatchObject({
    refused: attempts.length,
    'bytes touched outside the output folder': 0,
    'extra submissions': 0,
    'key leaks': 0,
  });
});
