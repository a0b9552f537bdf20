import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { shotlist, tempDir } from '../helpers/cli.js';
import { KEY, childEnv, expectNoKey, runArgs, writeManifest } from './run-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: Simulator | undefined;

beforeEach(() => {
  tmp = tempDir('shotlist-folder-strings-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

// Any control byte but the line feed that ends each line: ESC, CSI (8-bit too), BEL, CR...
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
const EVIL = 'http://evil.example/\u001b[2J';

/** Journal lines someone with write access to the output folder planted. */
function plant(out: string, key: string): void {
  const at = Date.now();
  const lines = [
    // The latest generation of a real shot: a task and a failure full of escape sequences.
    {
      type: 'intent',
      key,
      shot: { id: 's01\u001b[31m', variant: null, take: 1 },
      gen: 2,
      idem: 'idem\u0007',
      base: EVIL,
      account: 'acct\u001b]0;owned\u0007',
      at,
    },
    { type: 'task', key, task_id: 'task\u001b]8;;http://evil.example\u0007-1', at },
    {
      type: 'failed',
      key,
      task_id: 'task\u001b]8;;http://evil.example\u0007-1',
      code: 'bad\u001b[2J',
      message: 'boom\u001b[2J\r\nerror: fake line \u009b31m\u202eevil',
      at,
    },
    // Open tasks of other "APIs": one an escape-laden URL, one not a URL at all.
    {
      type: 'intent',
      key: 'f'.repeat(64),
      shot: { id: 'x', variant: null, take: 1 },
      gen: 1,
      idem: 'i',
      base: EVIL,
      at,
    },
    {
      type: 'intent',
      key: 'e'.repeat(64),
      shot: { id: 'y', variant: null, take: 1 },
      gen: 1,
      idem: 'j',
      base: 'javascript:\u001b]8;;x\u0007alert(1)\n--base-url http://evil.example',
      at,
    },
  ];
  appendFileSync(
    path.join(out, 'journal.ndjson'),
    lines.map((l) => `${JSON.stringify(l)}\n`).join(''),
  );
}

function expectClean(...outputs: string[]): void {
  for (const text of outputs) {
    expect(text).not.toMatch(CONTROL);
    // No printed line offers the folder's base as something to pass.
    expect(text).not.toMatch(/--base-url\s+\S*evil/);
  }
}

it('strings read back from the journal are cleaned before they are shown, and its base is never offered as a flag', async () => {
  sim = await startSimulator({ apiKey: KEY, latency: 0, seed: 5 });
  const manifest = writeManifest(tmp.dir, 2);
  const out = path.join(tmp.dir, 'out');
  const first = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
  expect(first.exitCode, first.stderr).toBe(0);
  const journal = readFileSync(path.join(out, 'journal.ndjson'), 'utf8');
  const s01 = journal
    .split('\n')
    .filter((l) => l.includes('"type":"intent"'))
    .map((l) => JSON.parse(l) as { key: string; shot: { id: string } })
    .find((e) => e.shot.id === 's01')!;
  plant(out, s01.key);

  const status = await shotlist(['status', manifest, '--out', out, '--base-url', sim.url], {
    cwd: tmp.dir,
  });
  expectClean(status.stdout, status.stderr);
  // The planted failure is shown, on one line, without its escapes.
  const line = status.stdout.split('\n').find((l) => l.startsWith('s01'));
  expect(line).toMatch(/boom.*error: fake line.*evil/);
  expect(line).toContain('task');

  // The base from the environment, under --yes: refused, nothing sent, the way back in words.
  const refused = await shotlist(
    runArgs(manifest, sim, out).filter(
      (a, i, all) => a !== '--base-url' && all[i - 1] !== '--base-url',
    ),
    { env: { ...childEnv, SHOTLIST_BASE_URL: sim.url }, cwd: tmp.dir },
  );
  expect(refused.exitCode).toBe(2);
  expectClean(refused.stdout, refused.stderr);
  expect(refused.stderr).toContain('another API (evil.example)');
  expect(refused.stderr).toContain('an address that is not an http(s) URL');
  expect(refused.stderr).toContain('pass its --base-url yourself');
  expect(sim.ledger().submissions).toHaveLength(2);

  // The base given on purpose: a note in the same words, and the run goes on to this API.
  const run = await shotlist(runArgs(manifest, sim, out), { env: childEnv, cwd: tmp.dir });
  expect(run.exitCode, run.stderr).toBe(0);
  expectClean(run.stdout, run.stderr);
  expect(`${run.stdout}${run.stderr}`).toContain('rendered against another API (evil.example)');
  expect(sim.ledger().submissions).toHaveLength(3);
  expectNoKey([status.stdout, status.stderr, refused.stderr, run.stdout, run.stderr], out);
});
