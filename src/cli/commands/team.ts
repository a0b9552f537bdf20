/** `shotlist team status | reset-budget`: the team's budgets, slots and claims in its Redis. */
import { resolveApiKey } from '../../api/key.js';
import { EXIT_CODES, UsageError } from '../../errors.js';
import { DEFAULT_BASE_URL } from '../../models.js';
import { chooseBase } from '../../pipeline/base.js';
import type { BudgetRow, TeamStatus } from '../../team/budget.js';
import { describeTeamUrl } from '../../team/url.js';
import { teamUrlOf } from '../config.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext } from '../context.js';

export const help = `Usage: shotlist team status --team redis://HOST:PORT/DB [--json]
       shotlist team reset-budget --team redis://HOST:PORT/DB [options]

status: what the team's Redis holds, for people: each team budget (its account, API,
campaign, seconds used by completed tasks, seconds reserved by tasks in flight or by
attempts that may have been billed, and the last --team-budget counted against it), the
task slots in use per account, and the claims live machines hold. Sends nothing to the API.

A team budget belongs to one account (the API base URL and a hash of the key: the key never
reaches Redis) and, with \`run --team-campaign NAME\`, to one campaign within it. An older
shotlist counted every client in one team-wide counter: status shows it as "legacy"; it is
no longer counted against any --team-budget, and --legacy clears it.

reset-budget: forgets the seconds the completed tasks of one budget used (what is in flight
stays reserved, so its end still adds up). It names the budget and asks first, unless --yes.
  --base-url URL     the API of the budget (default $SHOTLIST_BASE_URL, else ${DEFAULT_BASE_URL});
                     the key (SHOTLIST_API_KEY, API_KEY or .env) names the account
  --campaign NAME    the budget of that campaign (\`--team-campaign NAME\`), not the account's
  --scope ID         the budget with this scope, as status lists it (no key needed)
  --legacy           clear the legacy team-wide counter of an older shotlist instead
  --yes              do not ask

--team defaults to $SHOTLIST_TEAM (a URL with a password belongs there, not on the command
line). Exit 0 ok, 2 bad input, a declined reset or no terminal to ask.
`;

const FLAGS = {
  team: { type: 'string' },
  json: { type: 'boolean' },
  'base-url': { type: 'string' },
  campaign: { type: 'string' },
  scope: { type: 'string' },
  legacy: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof FLAGS>>['values'];

const s = (n: number) => `${n} s`;

/** One budget in a line: whose it is, what is used and reserved, and its last limit. */
export function budgetLine(b: BudgetRow): string {
  const whose = `account ${b.account.slice(0, 12)}${b.base ? ` on ${b.base}` : ''}${b.campaign ? `, campaign "${b.campaign}"` : ''}`;
  const limit = b.limit === null ? '' : ` of ${s(b.limit)}`;
  return `${whose}: ${s(b.used)} used, ${s(b.reserved)} reserved${limit} (scope ${b.scope})`;
}

function printStatus(ctx: CliContext, where: string, st: TeamStatus): void {
  const say = (line: string) => ctx.stdout.write(`${line}\n`);
  say(`team ${where}`);
  say(st.budgets.length === 0 ? 'budgets: none counted' : 'budgets:');
  for (const b of st.budgets) say(`  ${budgetLine(b)}`);
  if (st.legacySeconds !== null)
    say(
      `  legacy team-wide counter of an older shotlist: ${s(st.legacySeconds)}; no longer counted against any --team-budget (\`shotlist team reset-budget --legacy\` clears it)`,
    );
  say(st.slots.length === 0 ? 'task slots in use: none' : 'task slots in use:');
  for (const slot of st.slots) say(`  account ${slot.account.slice(0, 12)}: ${slot.inUse}`);
  say(`claims held: ${st.claims.held} by ${st.claims.machines} machine(s)`);
}

/** The scope `reset-budget` means: --scope, else the account of this key and API (+ campaign). */
async function scopeOf(ctx: CliContext, v: Values): Promise<string> {
  const { SCOPE } = await import('../../team/budget.js');
  if (v.scope !== undefined) {
    if (v.campaign !== undefined || v['base-url'] !== undefined)
      throw new UsageError(
        '--scope names the budget alone',
        'leave out --campaign and --base-url, or --scope',
      );
    if (!SCOPE.test(v.scope))
      throw new UsageError(`--scope "${v.scope}" is not a scope`, 'copy it from `team status`');
    return v.scope;
  }
  const apiKey = (await resolveApiKey(ctx.env, ctx.cwd))?.key;
  if (!apiKey)
    throw new UsageError(
      "no API key: the key names the budget's account",
      'export SHOTLIST_API_KEY=<the key> (or API_KEY, or .env), or pass --scope from `team status`',
    );
  const { accountId } = await import('../../team/open.js');
  const { budgetScope } = await import('../../team/facts.js');
  const base = chooseBase({ baseUrl: v['base-url'], env: ctx.env }).journalBase;
  return budgetScope(accountId(apiKey, base), v.campaign);
}

/** Whether the reset goes ahead: --yes, else a yes on a terminal; refused without one. */
async function confirmed(ctx: CliContext, v: Values, what: string): Promise<boolean> {
  if (v.yes) return true;
  if (!ctx.stdin.isTTY || !ctx.stderr.isTTY || ctx.env.CI)
    throw new UsageError(
      `refusing to reset ${what} without confirmation: no terminal to ask; nothing was reset`,
      'pass --yes to confirm',
    );
  const { confirm } = await import('../run-flow.js');
  return confirm(ctx, `Reset ${what}? [y/N] `);
}

/** What `team reset-budget` resets: the legacy counter, or one scoped budget (checked first). */
async function targetOf(ctx: CliContext, v: Values): Promise<'legacy' | { scope: string }> {
  if (!v.legacy) return { scope: await scopeOf(ctx, v) };
  if (v.scope !== undefined || v.campaign !== undefined)
    throw new UsageError(
      '--legacy names the legacy counter alone',
      'leave out --scope and --campaign',
    );
  return 'legacy';
}

/** Runs `team reset-budget` on `target`; returns the exit code. */
async function reset(
  ctx: CliContext,
  v: Values,
  redis: import('../../team/redis.js').TeamRedis,
  target: 'legacy' | { scope: string },
) {
  const budget = await import('../../team/budget.js');
  const say = (line: string) => ctx.stdout.write(`${line}\n`);
  if (target === 'legacy') {
    const { legacySeconds } = await budget.readTeamStatus(redis);
    const what = `the legacy team-wide counter of an older shotlist (${s(legacySeconds ?? 0)})`;
    if (!(await confirmed(ctx, v, what))) return declined(ctx);
    const held = await budget.resetLegacyBudget(redis);
    if (v.json) say(JSON.stringify({ reset: 'legacy', forgotten_seconds: held }));
    else say(`reset: the legacy team-wide counter (${s(held)} cleared)`);
    return EXIT_CODES.ok;
  }
  const row = await budget.readBudget(redis, target.scope);
  const what = `the team budget of ${budgetLine(row)}`;
  if (!(await confirmed(ctx, v, what))) return declined(ctx);
  const done = await budget.resetBudget(redis, target.scope);
  if (v.json)
    say(
      JSON.stringify({
        reset: target.scope,
        forgotten_seconds: done.forgotten,
        reserved_seconds: done.counted,
      }),
    );
  else
    say(
      `reset: ${budgetLine(row)}: ${s(done.forgotten)} used forgotten, ${s(done.counted)} still reserved by tasks in flight or at risk`,
    );
  return EXIT_CODES.ok;
}

function declined(ctx: CliContext): number {
  ctx.stdout.write('nothing was reset.\n');
  return EXIT_CODES.badInput;
}

/** `shotlist team <status|reset-budget>`. */
export default async function team(ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parseCommandArgs(ctx.argv, FLAGS, help);
  const [sub, ...rest] = positionals;
  if ((sub !== 'status' && sub !== 'reset-budget') || rest.length > 0)
    throw new UsageError(
      sub === undefined
        ? 'team needs a subcommand'
        : `unknown team subcommand "${positionals.join(' ')}"`,
      'shotlist team status --team URL, or shotlist team reset-budget --team URL',
    );
  const url = teamUrlOf(v, ctx.env);
  if (url === undefined)
    throw new UsageError(`team ${sub} needs --team`, 'add --team redis://HOST:PORT/DB');
  const target = sub === 'reset-budget' ? await targetOf(ctx, v) : undefined;
  const { connectTeam } = await import('../../team/redis.js');
  const redis = await connectTeam(url);
  try {
    if (target) return await reset(ctx, v, redis, target);
    const { readTeamStatus } = await import('../../team/budget.js');
    const st = await readTeamStatus(redis);
    if (v.json) ctx.stdout.write(`${JSON.stringify({ team: describeTeamUrl(url), ...st })}\n`);
    else printStatus(ctx, describeTeamUrl(url), st);
    return EXIT_CODES.ok;
  } finally {
    await redis.close();
  }
}
