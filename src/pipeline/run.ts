/** `runManifest`: the programmatic twin of `shotlist run`. */
import { resolveApiKey } from '../api/key.js';
import { EXIT_CODES, UsageError, adviceText, type Advice } from '../errors.js';
import { formatMoney } from '../plan/money.js';
import { journalSize } from '../render/journal.js';
import { refuseUnreachableReceiver } from '../render/receiver.js';
import { SIMULATOR_BASE, describeBase } from './base.js';
import { executeRun, needsApi } from './execute.js';
import { recordFolderApi } from './folder-api.js';
import { acquireRunLock, type RunLock } from './lock.js';
import { prepareRun, refuseOverBudget } from './prepare.js';
import { nothingToRerollMessage, recordDoneRerolls } from './reroll.js';
import type { PreparedRun, RunCallbacks, RunOptions, RunResult } from './types.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * How to collect the tasks of a base read from the folder: the simulator's by simulating; for
 * any other, the user checks that API and names its URL, never one copied from the folder.
 */
function wayBack(base: string, here?: string): Advice {
  return {
    kind: 'collect_foreign',
    there: describeBase(base),
    thereSimulated: base === SIMULATOR_BASE,
    ...(here === undefined ? {} : { here: { base: here, simulated: here === SIMULATOR_BASE } }),
  };
}

/**
 * Tasks journaled for another API are money only that API can deliver: say so, and refuse
 * to go on unattended unless the base URL was chosen on purpose (a flag, or `--simulate`).
 */
export function checkForeignTasks(
  run: PreparedRun,
  yes: boolean,
  log?: (line: string) => void,
): void {
  if (run.foreign.length === 0 || run.summary.submits === 0) return;
  const here = run.base.journalBase;
  const there = run.foreign
    .map((f) => `${plural(f.tasks, 'task')} sent to ${describeBase(f.base)}`)
    .join(', ');
  const message = `the journal in ${run.outDir} holds ${there}; this run sends to ${here}${run.base.source === 'env' ? ' (from $SHOTLIST_BASE_URL)' : run.base.source === 'default' ? ' (the default)' : ''}`;
  const chosen =
    run.base.source === 'flag' || run.base.source === 'simulate' || run.base.source === 'accounts';
  if (yes && !chosen) {
    throw new UsageError(`${message}; nothing was sent`, wayBack(run.foreign[0]!.base, here));
  }
  log?.(`note: ${message}; ${adviceText(wayBack(run.foreign[0]!.base))}`);
}

/** What an enqueuer without a key says when it starts. */
export const KEYLESS_ENQUEUER =
  "warning: no API key: this enqueuer trusts the team's Redis for which task made each clip and where to download it; set the team's key (SHOTLIST_API_KEY) to have each one checked with the API";

/** Checks the budget, the base URL, the key and the user's consent; returns the key. */
async function clearToSend(
  run: PreparedRun,
  options: RunOptions,
  callbacks: RunCallbacks,
): Promise<{ go: true; apiKey: string | undefined } | { go: false }> {
  refuseOverBudget(run, options);
  checkForeignTasks(run, !!options.yes, callbacks.log);
  let apiKey: string | undefined;
  // A pool's keys are its accounts' (checked when the accounts file was read).
  if (!run.simulated && !run.accounts && needsApi(run, options)) {
    apiKey = (await resolveApiKey(options.env ?? process.env, options.cwd ?? process.cwd()))?.key;
    // An enqueuer sends nothing: without a key it can only take the team's Redis at its word.
    if (!apiKey && options.teamRole === 'enqueue') callbacks.warn?.(KEYLESS_ENQUEUER);
    else if (!apiKey) {
      throw new UsageError('no API key: nothing was sent', { kind: 'no_key' });
    }
  }
  // A simulated run spends nothing, so it never asks.
  if (run.summary.submits === 0 || run.simulated || options.yes) return { go: true, apiKey };
  const money = formatMoney(run.summary.newCost ?? 0, run.plan.totals.currency);
  if (!callbacks.confirm) {
    throw new UsageError(
      `refusing to submit ${plural(run.summary.submits, 'shot')} (${money}) without confirmation: no terminal to ask`,
      { kind: 'confirm' },
    );
  }
  return (await callbacks.confirm(run)) ? { go: true, apiKey } : { go: false };
}

/**
 * Takes the output folder's run lock. The journal was read before: if another run wrote to it
 * meanwhile, this run's view of which shots are done is stale, so it stops, sending nothing.
 */
async function lockRun(run: PreparedRun, callbacks: RunCallbacks): Promise<RunLock> {
  const lock = await acquireRunLock(run.outDir);
  const was = lock.tookOver;
  if (was) {
    callbacks.log?.(
      `note: took over the lock of run ${was.pid} on ${was.host}, which is no longer running`,
    );
  }
  // Its size says whether anyone appended since: the journal is not read a second time.
  if ((await journalSize(run.live.file)) !== run.journal.bytes) {
    await lock.release();
    throw new UsageError(
      `the journal in ${run.outDir} changed while this run was being prepared (another run was writing to it); nothing was sent`,
      'run the same command again: it starts from what the journal holds now',
    );
  }
  return lock;
}

/**
 * Runs a manifest as `shotlist run` does: plan, check the budget, confirm (or `yes`), render,
 * stitch, report. Progress and notes leave through the callbacks. Bad input, an exceeded
 * budget or a refused confirmation throw a {@link ShotlistError} before anything is sent;
 * a failed shot does not throw: the result's `exitCode` says how the run went.
 */
export async function runManifest(
  file: string,
  options: RunOptions = {},
  callbacks: RunCallbacks = {},
): Promise<RunResult> {
  const prepared = await prepareRun(file, options, callbacks);
  if (options.reroll && prepared.plan.shots.length === 0) {
    callbacks.log?.(nothingToRerollMessage(prepared.manifestFile, options));
    return { status: 'done', exitCode: EXIT_CODES.ok, prepared };
  }
  await callbacks.onPrepared?.(prepared);
  // A receiver the API cannot call is refused by the dry run as by the real one.
  if (options.listen && prepared.base.apiBase !== undefined)
    refuseUnreachableReceiver(options.listen, options.publicUrl, prepared.base.apiBase);
  if (options.dryRun) {
    // A dry run says what the real run would: over budget, it would be refused.
    const refused = !prepared.budget.ok && options.overBudget !== 'allow';
    return {
      status: 'dry-run',
      exitCode: refused ? EXIT_CODES.overBudget : EXIT_CODES.ok,
      prepared,
    };
  }
  if (options.savedPlan !== undefined && prepared.summary.submits === 0)
    callbacks.log?.(`the saved plan ${options.savedPlan} is applied: nothing to send`);
  const lock = await lockRun(prepared, callbacks);
  try {
    const clear = await clearToSend(prepared, options, callbacks);
    if (!clear.go) {
      return {
        status: 'declined',
        exitCode: options.signal?.aborted ? EXIT_CODES.interrupted : EXIT_CODES.ok,
        prepared,
      };
    }
    await recordFolderApi(prepared.outDir, prepared.base.journalBase);
    const result = await executeRun(prepared, clear.apiKey, options, callbacks);
    await recordDoneRerolls(prepared, result);
    return result;
  } finally {
    await lock.release();
  }
}
