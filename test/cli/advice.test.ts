import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_WORDING } from '../../src/cli/advice.js';
import { UsageError, useAdviceWording, type Advice } from '../../src/errors.js';
import { failOnUnknown } from '../../src/render/state.js';

/** One advice of each kind: the record's type makes a new kind fail to compile until added. */
const EACH_KIND: { [K in Advice['kind']]: Extract<Advice, { kind: K }> } = {
  add_uploads: { kind: 'add_uploads' },
  add_uploads_section: { kind: 'add_uploads_section' },
  allow_command: { kind: 'allow_command', rehearse: true },
  allow_outside: { kind: 'allow_outside', dir: '/films' },
  another_port: { kind: 'another_port' },
  another_listen_port: { kind: 'another_listen_port' },
  merge_shards: { kind: 'merge_shards' },
  over_budget: { kind: 'over_budget', total: true },
  public_url_for_listen: { kind: 'public_url_for_listen' },
  collect_first: { kind: 'collect_first', manifest: 'film.yaml', api: 'api.example' },
  collect_foreign: {
    kind: 'collect_foreign',
    there: 'api.example',
    thereSimulated: false,
    here: { base: 'https://other.example/v1', simulated: false },
  },
  confirm: { kind: 'confirm' },
  fail_on_unknown: { kind: 'fail_on_unknown' },
  fix_references: { kind: 'fix_references' },
  fix_team_url: { kind: 'fix_team_url' },
  folder_of_another_api: {
    kind: 'folder_of_another_api',
    folder: { api: 'a.example', simulated: false },
    ours: { api: 'b.example', simulated: false },
    rebase: 'film.yaml',
  },
  force_known_shots: { kind: 'force_known_shots' },
  force_shot: { kind: 'force_shot', shot: 's01' },
  give_shard_folders: { kind: 'give_shard_folders' },
  give_shard_run_folders: { kind: 'give_shard_run_folders' },
  leave_out_misplaced: { kind: 'leave_out_misplaced' },
  merge_each_once: { kind: 'merge_each_once' },
  name_api_directly: { kind: 'name_api_directly' },
  no_key: { kind: 'no_key' },
  quota_format: { kind: 'quota_format' },
  raise_download_cap: { kind: 'raise_download_cap' },
  render_before_reroll: { kind: 'render_before_reroll' },
  render_for_real: { kind: 'render_for_real' },
  reroll_clash: { kind: 'reroll_clash', options: ['force', 'shard'] },
  retry_unknown: { kind: 'retry_unknown' },
  save_plan: { kind: 'save_plan' },
  save_plan_again: { kind: 'save_plan_again' },
  take_pool_task: { kind: 'take_pool_task', account: 'alpha' },
  wait_for_run: { kind: 'wait_for_run', lockFile: 'renders/film/.lock' },
};

const FLAG = /(^|[^\w-])--[a-z][a-z-]+/;

beforeEach(() => useAdviceWording(undefined));
afterEach(() => useAdviceWording(undefined));

describe('advice below the CLI, worded by the CLI', () => {
  it('a library caller gets the code and the advice as data, and no flag in the words', () => {
    let caught: unknown;
    try {
      failOnUnknown('failed');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const error = caught as UsageError;
    expect(error.code).toBe('usage');
    expect(error.advice).toEqual({ kind: 'fail_on_unknown' });
    expect(error.message).not.toMatch(FLAG);
    expect(error.fix).toBe('see advice "fail_on_unknown"');
  });

  it('with the CLI wording installed, the same error names the flags to pass', () => {
    useAdviceWording(CLI_WORDING);
    expect(() => failOnUnknown('failed')).toThrow('--fail-on failed is not a condition');
    try {
      failOnUnknown('failed');
    } catch (error) {
      expect((error as UsageError).fix).toBe('use --fail-on unknown');
    }
  });

  it.each(Object.values(EACH_KIND))(
    'the CLI words $kind naming a flag; plain words name none',
    (advice) => {
      const plain = new UsageError('x', advice).fix ?? '';
      expect(plain).not.toMatch(FLAG);
      useAdviceWording(CLI_WORDING);
      expect(new UsageError('x', advice).fix).toMatch(FLAG);
    },
  );
});
