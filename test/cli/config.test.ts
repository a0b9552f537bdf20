/**
 * The command line's config, resolved once from the flags and the environment: precedence
 * (a flag wins over its variable), the typed values handed to the pipeline, and every bad
 * value or combination refused as a usage error (exit 2) naming the flag and the fix.
 */
import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/args.js';
import {
  RUN_FLAGS,
  parseListen,
  parseShardFlag,
  refusePoolClash,
  resolveConfig,
  teamUrlOf,
} from '../../src/cli/config.js';
import { useCliWording } from '../helpers/cli-wording.js';
import { EXIT_CODES, ShotlistError, UsageError } from '../../src/errors.js';
import { checkPoolFlags } from '../../src/pipeline/accounts.js';
import { parseShard } from '../../src/pipeline/shard.js';

const TEAM = 'redis://127.0.0.1:6379/0';

/** The config `argv` and `env` resolve to, as the command line parses them. */
const resolve = (command: 'run' | 'enqueue', argv: string[], env: NodeJS.ProcessEnv = {}) =>
  resolveConfig(command, parseCommandArgs(['film.yaml', ...argv], RUN_FLAGS, 'usage').values, env);

/** The usage error resolving throws: exit 2, its message and fix. */
function refusal(command: 'run' | 'enqueue' | 'worker', argv: string[], env = {}) {
  const { values } = parseCommandArgs(argv, RUN_FLAGS, 'usage');
  try {
    if (command === 'worker') resolveConfig('worker', values, env);
    else resolveConfig(command, values, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(EXIT_CODES.badInput);
    return { message: (error as UsageError).message, fix: (error as UsageError).fix };
  }
  throw new Error(`${command} ${argv.join(' ')} was not refused`);
}

// The messages checked here are the command line's: it words advice naming its flags.
useCliWording();

describe('precedence: a flag wins over its variable', () => {
  it('--listen, --public-url and --safety-poll over SHOTLIST_LISTEN, _PUBLIC_URL, _SAFETY_POLL', () => {
    const env = {
      SHOTLIST_LISTEN: '0.0.0.0:9000',
      SHOTLIST_PUBLIC_URL: 'https://env.example.test/hook',
      SHOTLIST_SAFETY_POLL: '30',
    };
    const fromEnv = resolve('run', [], env);
    expect(fromEnv.options.listen).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(fromEnv.options.publicUrl).toBe('https://env.example.test/hook');
    expect(fromEnv.options.safetyPollSeconds).toBe(30);
    expect(fromEnv.notes).toEqual([
      'note: the push receiver listens on 0.0.0.0, reachable beyond this machine',
    ]);
    const flags = ['--listen', '8787', '--public-url', 'https://flag.example.test/h'];
    const fromFlags = resolve('run', [...flags, '--safety-poll', '5'], env);
    expect(fromFlags.options.listen).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(fromFlags.options.publicUrl).toBe('https://flag.example.test/h');
    expect(fromFlags.options.safetyPollSeconds).toBe(5);
    expect(fromFlags.notes).toEqual([]);
  });

  it('--team over SHOTLIST_TEAM; a password is allowed in the variable only', () => {
    const env = { SHOTLIST_TEAM: 'redis://:s3cret@10.0.0.5:6379/2' };
    const fromEnv = resolve('run', [], env).options.team;
    expect(fromEnv).toBeInstanceOf(URL);
    expect(fromEnv?.host).toBe('10.0.0.5:6379');
    expect(fromEnv?.password).toBe('s3cret');
    expect(resolve('run', ['--team', TEAM], env).options.team?.href).toBe(TEAM);
    expect(teamUrlOf({}, { SHOTLIST_TEAM: '  ' })).toBeUndefined();
  });

  it('--accounts over SHOTLIST_ACCOUNTS; --allow-command or SHOTLIST_ALLOW_COMMAND=1', () => {
    expect(resolve('run', [], { SHOTLIST_ACCOUNTS: 'env.yaml' }).options.accounts).toBe('env.yaml');
    expect(
      resolve('run', ['--accounts', 'flag.yaml'], { SHOTLIST_ACCOUNTS: 'env.yaml' }).options
        .accounts,
    ).toBe('flag.yaml');
    expect(resolve('run', []).options.allowCommand).toBe(false);
    expect(resolve('run', [], { SHOTLIST_ALLOW_COMMAND: '1' }).options.allowCommand).toBe(true);
    expect(resolve('run', ['--allow-command']).options.allowCommand).toBe(true);
  });
});

describe('values handed down already parsed', () => {
  it('shard, simulator latency, numbers and lists', () => {
    const { options, json, failOn } = resolve('run', [
      '--simulate',
      '--sim-latency',
      '1-3s',
      '--shard',
      '2/3',
      '--concurrency',
      '3',
      '--max-attempts',
      '4',
      '--only',
      's01, s02',
      '--force',
      'all',
      '--json',
      '--fail-on',
      'unknown',
      '--duration',
      '5',
    ]);
    expect(options.simLatency).toEqual({ min: 1, max: 3 });
    expect(options.shard).toEqual({ index: 2, count: 3 });
    expect(options.concurrency).toBe(3);
    expect(options.maxAttempts).toBe(4);
    expect(options.only).toEqual(['s01', 's02']);
    expect(options.force).toBe('all');
    expect(options.overrides).toEqual({ duration: 5 });
    expect([json, failOn]).toEqual([true, true]);
  });

  it('enqueue: the team role and the wait in milliseconds', () => {
    const { options } = resolve('enqueue', ['--team', TEAM, '--wait-unknown', '1.5']);
    expect(options.teamRole).toBe('enqueue');
    expect(options.waitUnknownMs).toBe(90_000);
  });

  it('worker: the team, the cap and the budget', () => {
    const { values } = parseCommandArgs(
      ['--worker', '--concurrency', '6', '--team-budget', '60', '--team-campaign', 'spring'],
      RUN_FLAGS,
      'usage',
    );
    const config = resolveConfig('worker', values, { SHOTLIST_TEAM: TEAM });
    expect(config.team.href).toBe(TEAM);
    expect(config).toMatchObject({ cap: 6, budgetSeconds: 60, campaign: 'spring' });
  });

  it('parseListen and parseShardFlag', () => {
    expect(parseListen('8787')).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(() => parseListen('host:70000')).toThrow(/--listen must be HOST:PORT/);
    expect(parseShardFlag(' 1 / 2 ')).toEqual({ index: 1, count: 2 });
  });
});

describe('every bad value or combination: exit 2, the flag named, the fix', () => {
  it.each<[string, 'run' | 'enqueue' | 'worker', string[], NodeJS.ProcessEnv, string, string]>([
    [
      'listen',
      'run',
      ['--listen', 'nowhere'],
      {},
      '--listen must be HOST:PORT or PORT, not nowhere',
      'e.g. --listen 127.0.0.1:8787',
    ],
    [
      'SHOTLIST_LISTEN',
      'run',
      [],
      { SHOTLIST_LISTEN: 'x:99999' },
      'SHOTLIST_LISTEN must be HOST:PORT or PORT',
      'e.g. SHOTLIST_LISTEN=127.0.0.1:8787',
    ],
    [
      'public-url alone',
      'run',
      ['--public-url', 'https://h.example.test'],
      {},
      '--public-url needs --listen',
      'add --listen PORT (or set SHOTLIST_LISTEN)',
    ],
    [
      'SHOTLIST_SAFETY_POLL alone',
      'run',
      [],
      { SHOTLIST_SAFETY_POLL: '9' },
      'SHOTLIST_SAFETY_POLL needs --listen',
      'add --listen PORT',
    ],
    [
      'public-url not a URL',
      'run',
      ['--listen', '0', '--public-url', 'nope'],
      {},
      '--public-url must be a URL, not nope',
      'e.g. --public-url https://',
    ],
    [
      'public-url http',
      'run',
      ['--listen', '0', '--public-url', 'http://h.example.test/'],
      {},
      'is not https',
      'reverse proxy',
    ],
    [
      'safety-poll',
      'run',
      ['--listen', '0', '--safety-poll', 'x'],
      {},
      '--safety-poll must be 0 or more, not x',
      'e.g. --safety-poll 4',
    ],
    [
      'team not a URL',
      'run',
      ['--team', 'nope'],
      {},
      '--team "nope" is not a URL',
      'redis://HOST:PORT/DB',
    ],
    [
      'team not redis',
      'run',
      ['--team', 'http://127.0.0.1:6379'],
      {},
      'is not a redis:// URL',
      'redis://HOST:PORT/DB',
    ],
    [
      'team path',
      'run',
      ['--team', 'redis://127.0.0.1:6379/zero'],
      {},
      'the path must be a database number',
      'redis://',
    ],
    [
      'team password',
      'run',
      ['--team', 'redis://:pw@127.0.0.1:6379/0'],
      {},
      '--team carries a password',
      'SHOTLIST_TEAM',
    ],
    [
      'team budget alone',
      'run',
      ['--team-budget', '40'],
      {},
      '--team-budget needs --team',
      'add --team',
    ],
    [
      'team campaign alone',
      'run',
      ['--team-campaign', 'x'],
      {},
      '--team-campaign needs --team',
      'add --team',
    ],
    [
      'campaign without budget',
      'run',
      ['--team', TEAM, '--team-campaign', 'x'],
      {},
      '--team-campaign needs --team-budget',
      'add --team-budget',
    ],
    [
      'team budget fraction',
      'run',
      ['--team', TEAM, '--team-budget', '2.5'],
      {},
      '--team-budget must be a whole number',
      'e.g. --team-budget 4',
    ],
    [
      'team with simulate',
      'run',
      ['--simulate'],
      { SHOTLIST_TEAM: TEAM },
      '--team cannot be used with --simulate',
      '--base-url',
    ],
    [
      'shard',
      'run',
      ['--shard', '4/3'],
      {},
      '--shard "4/3" is not a shard i/n with 1 ≤ i ≤ n',
      'e.g. --shard 1/3',
    ],
    [
      'concurrency 0',
      'run',
      ['--concurrency', '0'],
      {},
      '--concurrency 0 is too small',
      'use 1 or more',
    ],
    [
      'concurrency fraction',
      'run',
      ['--concurrency', '1.5'],
      {},
      '--concurrency must be a whole number',
      'e.g. --concurrency 4',
    ],
    [
      'max-attempts 0',
      'run',
      ['--max-attempts', '0'],
      {},
      '--max-attempts 0 is too small',
      'use 1 or more',
    ],
    [
      'max-download-mb',
      'run',
      ['--max-download-mb', '-1'],
      {},
      '--max-download-mb must be 0 or more, not -1',
      '',
    ],
    ['max-cost', 'run', ['--max-cost', 'lots'], {}, '--max-cost must be 0 or more, not lots', ''],
    ['duration', 'run', ['--duration', '4.5'], {}, '--duration must be a whole number', ''],
    [
      'sim-latency alone',
      'run',
      ['--sim-latency', '1s'],
      {},
      '--sim-latency only applies to --simulate',
      'add --simulate',
    ],
    [
      'sim-latency text',
      'run',
      ['--simulate', '--sim-latency', 'soon'],
      {},
      '--sim-latency: latency "soon" is not a time range',
      'MIN-MAXs',
    ],
    [
      'sim-latency backwards',
      'run',
      ['--simulate', '--sim-latency', '6-2s'],
      {},
      '--sim-latency: latency "6-2s" ends before it starts',
      '2-6s',
    ],
    [
      'fail-on',
      'run',
      ['--fail-on', 'failed'],
      {},
      '--fail-on failed is not a condition',
      '--fail-on unknown',
    ],
    [
      'reroll with force',
      'run',
      ['--reroll', '--force', 's01', '--shard', '1/2'],
      {},
      'it does not take --force, --shard',
      'drop --force, --shard',
    ],
    [
      'accounts with simulate',
      'run',
      ['--accounts', 'a.yaml', '--simulate'],
      {},
      '--accounts cannot be used with --simulate',
      'drop --simulate',
    ],
    [
      'SHOTLIST_ACCOUNTS with base-url',
      'run',
      ['--base-url', 'http://127.0.0.1:9'],
      { SHOTLIST_ACCOUNTS: 'a.yaml' },
      '--accounts cannot be used with --base-url',
      'drop --base-url',
    ],
    [
      'accounts with team',
      'run',
      ['--accounts', 'a.yaml'],
      { SHOTLIST_TEAM: TEAM },
      '--accounts cannot be used with --team',
      'drop --team',
    ],
    [
      'wait-unknown on run',
      'run',
      ['--wait-unknown', '5'],
      {},
      '--wait-unknown is an option of enqueue',
      'shotlist enqueue',
    ],
    ['enqueue without team', 'enqueue', [], {}, 'enqueue needs --team', 'add --team'],
    [
      'enqueue listen',
      'enqueue',
      ['--team', TEAM, '--listen', '0'],
      {},
      'enqueue does not take --listen',
      'give it to the workers',
    ],
    [
      'enqueue wait',
      'enqueue',
      ['--team', TEAM, '--wait-unknown', '-1'],
      {},
      '--wait-unknown must be 0 or more, not -1',
      '',
    ],
    ['worker without team', 'worker', ['--worker'], {}, '--worker needs --team', 'add --team'],
    [
      'worker simulate',
      'worker',
      ['--worker', '--simulate'],
      { SHOTLIST_TEAM: TEAM },
      '--worker cannot be used with --simulate',
      '--base-url',
    ],
    [
      'worker retry-unknown',
      'worker',
      ['--worker', '--retry-unknown'],
      { SHOTLIST_TEAM: TEAM },
      '--worker does not take --retry-unknown',
      'shotlist enqueue',
    ],
    [
      'worker concurrency',
      'worker',
      ['--worker', '--concurrency', '0'],
      { SHOTLIST_TEAM: TEAM },
      '--concurrency 0 is too small',
      'use 1 or more',
    ],
    [
      'worker wait-unknown',
      'worker',
      ['--worker', '--wait-unknown', '5'],
      { SHOTLIST_TEAM: TEAM },
      '--wait-unknown is an option of enqueue',
      '',
    ],
  ])('%s', (_name, command, argv, env, message, fix) => {
    const r = refusal(command, argv, env);
    expect(r.message).toContain(message);
    expect(r.fix ?? '').toContain(fix);
  });

  it('the password given in --team is never echoed', () => {
    const r = refusal('run', ['--team', 'redis://:hunter2-secret@127.0.0.1:6379/0']);
    expect(`${r.message} ${r.fix}`).not.toContain('hunter2-secret');
  });

  it('refusePoolClash is quiet without an accounts file', () => {
    expect(() => refusePoolClash({ simulate: true, 'base-url': 'http://x' }, {})).not.toThrow();
  });
});

describe('below the command line, no flag is named', () => {
  it('the pipeline refuses a pool beside a simulator by a code, in plain words', () => {
    let error: unknown;
    try {
      checkPoolFlags({ simulate: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ShotlistError);
    expect((error as ShotlistError).code).toBe('accounts_clash');
    expect((error as ShotlistError).exitCode).toBe(EXIT_CODES.badInput);
    expect(`${(error as ShotlistError).message} ${(error as ShotlistError).fix}`).not.toMatch(/--/);
  });

  it('a shard folder naming a bad shard is refused without naming --shard', () => {
    expect(() => parseShard('4/3')).toThrow(/shard "4\/3" is not a shard i\/n/);
    expect(() => parseShard('4/3')).not.toThrow(/--/);
  });
});

it('a library caller asking for no task at once is refused by a code, no flag named', async () => {
  const { prepareRun } = await import('../../src/pipeline/prepare.js');
  const run = prepareRun('missing.yaml', { concurrency: 0 });
  await expect(run).rejects.toMatchObject({
    code: 'option_too_small',
    exitCode: EXIT_CODES.badInput,
    message: 'concurrency 0 is too small',
  });
});
