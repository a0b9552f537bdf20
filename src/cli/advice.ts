import type { Advice, AdviceWording, OptionName } from '../errors.js';

/** The flag of each library option: the one place advice learns how a flag is spelled. */
const FLAGS: Record<OptionName, string> = {
  force: '--force',
  failOn: '--fail-on',
  legacy: '--legacy',
  maxCost: '--max-cost',
  only: '--only',
  plan: '--plan',
  reroll: '--reroll',
  shard: '--shard',
  teamBudget: '--team-budget',
  variant: '--variant',
};

const ALLOW_COMMAND_HOW =
  '--allow-command (or SHOTLIST_ALLOW_COMMAND=1 in your shell: a .env file or the manifest cannot allow it)';

/** How to point a command at a folder's API (never a URL read from the folder, only its name). */
function wayToApi(api: string, simulated: boolean): string {
  return simulated ? 'add --simulate' : `pass the --base-url of ${api} (check it is your API)`;
}

/** Each advice as the sentence a user of the command line reads, naming the flag to pass. */
export function wordAdvice(a: Advice): string {
  switch (a.kind) {
    case 'add_uploads':
      return 'add uploads: (provider s3 or command), or rehearse with --simulate';
    case 'add_uploads_section':
      return 'add uploads: { provider: s3, bucket: ..., public_url: "https://.../{key}" } (or provider: command), or rehearse with --simulate';
    case 'allow_command':
      return `if you trust this manifest and that command, pass ${ALLOW_COMMAND_HOW}${a.rehearse ? '; or rehearse with --simulate, which runs no command' : ''}`;
    case 'allow_outside':
      return `move or copy it into ${a.dir}, or pass --allow-outside to let this manifest read it`;
    case 'another_listen_port':
      return 'choose another --listen port, or 0 for any free one';
    case 'over_budget':
      return a.total
        ? 'raise budget.max_total_cost / max_total_seconds in the manifest, or render fewer shots with --only / --variant'
        : 'raise budget.max_cost in the manifest or --max-cost, or render fewer shots with --only / --variant';
    case 'merge_shards':
      return 'after every shard: shotlist merge <out> <shard folders...>, then shotlist stitch <manifest> --out <out>';
    case 'public_url_for_listen':
      return 'give --public-url, the https address of a reverse proxy or tunnel in front of --listen';
    case 'another_port':
      return 'choose another --port, or leave it out for a free one';
    case 'collect_foreign': {
      const back = a.thereSimulated
        ? 'to pick those tasks up, run with --simulate'
        : `this folder was rendered against ${a.there}: to pick those tasks up, check that it is your API and pass its --base-url yourself`;
      if (a.here === undefined) return back;
      return `${back}; to send to ${a.here.base} anyway, pass ${a.here.simulated ? '--simulate' : `--base-url ${a.here.base}`} explicitly`;
    }
    case 'collect_first':
      return `collect them first (shotlist run ${a.manifest} with the --base-url of ${a.api}), then move the folder`;
    case 'confirm':
      return 'pass --yes to confirm, or --dry-run to see the requests first';
    case 'fail_on_unknown':
      return 'use --fail-on unknown';
    case 'fix_references':
      return 'fix or replace each reference named above (shotlist check <manifest> checks again); --no-preflight skips the checks';
    case 'fix_team_url':
      return 'start it (redis-server) or fix --team / SHOTLIST_TEAM';
    case 'force_known_shots':
      return 'use shot ids of the manifest, or --force all';
    case 'force_shot':
      return `--force ${a.shot} to try again`;
    case 'give_shard_folders':
      return 'give the --out folders of the shard runs';
    case 'give_shard_run_folders':
      return 'give the folders that `shotlist run --shard i/n` wrote (each job uploads its folder)';
    case 'leave_out_misplaced':
      return 'leave out the folder (an extra or altered artifact) and merge the folder of the shard that rendered them; a folder says its shard in shard.json (written by `run --shard i/n`) or by a name ending in shard-<i>-of-<n>';
    case 'merge_each_once':
      return 'merge each shot from one folder only: leave out the folder that rendered it again (were two jobs given the same --shard?) or that was altered; to take a shard folder that ran on after an earlier merge, merge every shard folder into a new folder';
    case 'name_api_directly':
      return 'run it with --base-url directly';
    case 'no_key':
      return 'export SHOTLIST_API_KEY=<your key> (or API_KEY, or put it in .env here); or try --simulate';
    case 'quota_format':
      return 'write each quota as KEY=SECONDS, e.g. --quota sk-one=600';
    case 'raise_download_cap':
      return 'raise the cap with --max-download-mb if the file is expected to be this large';
    case 'render_before_reroll':
      return 'render the manifest first with shotlist run (same flags, without --reroll), then --reroll';
    case 'render_for_real':
      return 'render for real into another folder: a run without --simulate uses renders/<name> by default, or pass --out';
    case 'reroll_clash': {
      const flags = a.options.map((o) => FLAGS[o]).join(', ');
      return `drop ${flags}, or run without --reroll`;
    }
    case 'retry_unknown':
      return 'Resubmit with --retry-unknown';
    case 'save_plan':
      return 'save one with shotlist plan <manifest> --save <file>';
    case 'save_plan_again':
      return 'save the plan again (shotlist plan <manifest> --save <file>), review it, then run it';
    case 'take_pool_task':
      return a.account === undefined
        ? 'run without --accounts to pick it up'
        : `run with --accounts FILE (the file naming ${a.account}) to pick it up`;
    case 'folder_of_another_api': {
      const move =
        a.rebase === undefined
          ? ''
          : `; to move this folder to ${a.ours.api} on purpose (done shots stay done), run shotlist rebase ${a.rebase} --to-base-url <its URL>`;
      return `to use this folder, ${wayToApi(a.folder.api, a.folder.simulated)}; for ${a.ours.api}, use another folder (the default for ${a.ours.simulated ? '--simulate is renders/<name>.simulated' : 'a real API is renders/<name>'}, or --out DIR)${move}`;
    }
    case 'wait_for_run':
      return `wait for that run to end (it resumes every shot it holds), or give this one another --out; if no run is going, remove ${a.lockFile}`;
  }
}

/** The command line's wording of advice and options: flags as typed. */
export const CLI_WORDING: AdviceWording = {
  advice: wordAdvice,
  option: (name) => FLAGS[name],
};
