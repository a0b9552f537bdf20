/**
 * `--team`, `--team-budget`, `--team-campaign` and `shotlist team` on the command line: refused
 * before anything is read or sent.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { baseOf, runCommandLine } from '../../src/cli/common.js';
import { cli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('shotlist-team-flags-');
afterAll(() => tmp.cleanup());
const manifest = path.join(tmp.dir, 'film.yaml');
writeFileSync(manifest, `version: 1\nname: film\nshots:\n  - id: s01\n    prompt: 橘猫在花园里\n`);

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  cli(['run', manifest, '--yes', '--base-url', 'http://127.0.0.1:9', ...args], {
    cwd: tmp.dir,
    env: { SHOTLIST_API_KEY: 'sk-flags-test', ...env },
  });

it.each([
  [['--team-budget', '40'], '--team-budget needs --team'],
  [['--team', 'http://127.0.0.1:6379'], 'is not a redis:// URL'],
  [['--team', 'redis://127.0.0.1:6379/zero'], 'the path must be a database number'],
  [
    ['--team', 'redis://127.0.0.1:6379/0', '--team-budget', '2.5'],
    '--team-budget must be a whole number',
  ],
  [['--team', 'redis://127.0.0.1:6379/0', '--simulate'], '--team cannot be used with --simulate'],
  [['--team-campaign', 'spring'], '--team-campaign needs --team'],
  [['--wait-unknown', '5'], '--wait-unknown is an option of enqueue'],
  [
    ['--team', 'redis://127.0.0.1:6379/0', '--team-campaign', 'spring'],
    '--team-campaign needs --team-budget',
  ],
])('run %j: exit 2, %s', async (args, message) => {
  const r = await run(args);
  expect(r.stderr).toContain(message);
  expect(r.exitCode).toBe(2);
});

const enqueue = (args: string[]) =>
  cli(['enqueue', manifest, '--yes', '--base-url', 'http://127.0.0.1:9', ...args], {
    cwd: tmp.dir,
    env: { SHOTLIST_API_KEY: 'sk-flags-test' },
  });
const TEAM = ['--team', 'redis://127.0.0.1:9/0'];

it.each([
  [[], 'enqueue needs --team'],
  [[...TEAM, '--team-budget', '40'], 'enqueue does not take --team-budget'],
  [[...TEAM, '--team-campaign', 'spring'], 'enqueue does not take --team-campaign'],
  [[...TEAM, '--worker'], 'enqueue does not take --worker'],
  [[...TEAM, '--simulate'], '--team cannot be used with --simulate'],
  [[...TEAM, '--wait-unknown', 'soon'], '--wait-unknown must be 0 or more, not soon'],
  [[...TEAM, '--wait-unknown', '-1'], '--wait-unknown must be 0 or more, not -1'],
])('enqueue %j: exit 2, %s', async (args, message) => {
  const r = await enqueue(args);
  expect(r.stderr).toContain(message);
  expect(r.exitCode).toBe(2);
});

it.each([
  [['--worker'], '--worker needs --team'],
  [['--worker', ...TEAM, '--simulate'], '--worker cannot be used with --simulate'],
  [['--worker', ...TEAM, manifest], '--worker takes no manifest'],
  [['--worker', ...TEAM, '--retry-unknown'], '--worker does not take --retry-unknown'],
  [['--worker', ...TEAM, '--wait-unknown', '5'], '--wait-unknown is an option of enqueue'],
  [['--worker', ...TEAM, '--team-campaign', 'x'], '--team-campaign needs --team-budget'],
])('run %j: exit 2, %s', async (args, message) => {
  const r = await cli(['run', ...args], {
    cwd: tmp.dir,
    env: { SHOTLIST_API_KEY: 'sk-flags-test' },
  });
  expect(r.stderr).toContain(message);
  expect(r.exitCode).toBe(2);
});

it.each([
  [[], 'team needs a subcommand'],
  [['stats', ...TEAM], 'unknown team subcommand "stats"'],
  [['status'], 'team status needs --team'],
  [['reset-budget', ...TEAM, '--scope', 'nope'], '--scope "nope" is not a scope'],
])('team %j: exit 2, %s', async (args, message) => {
  const r = await cli(['team', ...args], { cwd: tmp.dir, env: {} });
  expect(r.stderr).toContain(message);
  expect(r.exitCode).toBe(2);
});

it('a password on --team is refused without being echoed; SHOTLIST_TEAM is where it goes', async () => {
  const r = await run(['--team', 'redis://:hunter2-secret@127.0.0.1:6379/0']);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('put the URL with its password in SHOTLIST_TEAM');
  expect(r.stderr + r.stdout).not.toContain('hunter2-secret');
});

it('the resume hint keeps --team, --team-budget and --team-campaign', () => {
  const line = runCommandLine(
    'ad.yaml',
    { team: 'redis://10.0.0.5:6379/2', 'team-budget': '600', 'team-campaign': 'spring' },
    baseOf({ env: {} }, { 'base-url': 'http://127.0.0.1:8090' }),
  );
  expect(line).toBe(
    'shotlist run ad.yaml --base-url http://127.0.0.1:8090 --team redis://10.0.0.5:6379/2 --team-budget 600 --team-campaign spring',
  );
});
