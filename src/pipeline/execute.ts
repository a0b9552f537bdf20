/** The second half of a run: talk to the API, render, stitch, report. */
import { withKeptClips } from './kept-clips.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createApiClient, type ApiClient } from '../api/client.js';
import { redact } from '../api/redact.js';
import { ApiError, EXIT_CODES } from '../errors.js';
import { verifyVideo } from '../media/probe.js';
import { DEFAULT_BASE_URL } from '../models.js';
import type { PoolMember } from '../render/accounts.js';
import type { TeamHook } from '../render/context.js';
import { DEFAULT_CONCURRENCY, render, type RenderResult } from '../render/render.js';
import { accountGate } from '../render/limiter.js';
import { startReceiver } from '../render/receiver.js';
import { openPool, type OpenPool } from './accounts.js';
import { refuseOverBudget } from './prepare.js';
import { uploadRunAssets } from './uploads.js';
import { chainGraph, withRenderedFrames } from './chain.js';
import { gaveUpEvent, renderable, withGaveUp } from './attempts.js';
import { assembleReport } from './report.js';
import { mergeOutputs, readRunReport, stitchRendered } from './stitch.js';
import { notStitchedNote } from './shard.js';
import { writeShardMark } from './shard-mark.js';
import type { PreparedRun, RunCallbacks, RunOptions, RunResult } from './types.js';

/**
 * Whether the run needs the API at all: cached shots and unknown ones left alone do not,
 * except for an enqueuer, which looks whether the team has finished its unknown shots since.
 */
export function needsApi(run: PreparedRun, options?: Pick<RunOptions, 'teamRole'>): boolean {
  const collects = options?.teamRole === 'enqueue';
  return run.assessed.some(
    (a) =>
      a.state !== 'cached' &&
      a.state !== 'gave_up' &&
      !(a.state === 'unknown' && !a.submits && !collects),
  );
}

interface Api {
  client: ApiClient;
  close: () => Promise<void>;
  /** An account pool's clients (`--accounts`): the shots go through them, not `client`. */
  accounts?: PoolMember[];
}

/** The API client: the real one, or one for a simulator started here (random key, no spend). */
async function openApi(
  run: PreparedRun,
  apiKey: string | undefined,
  options: RunOptions,
): Promise<Api> {
  let baseUrl = run.base.apiBase ?? DEFAULT_BASE_URL;
  let stopSimulator: (() => Promise<void>) | undefined;
  if (run.simulated && needsApi(run)) {
    const { startSimulator } = await import('../sim/index.js');
    const sim = await startSimulator({
      apiKey: apiKey!,
      port: 0,
      // Kept under the output folder, so an interrupted simulated run resumes like a real one.
      stateDir: path.join(run.outDir, '.simulator'),
      env: options.env ?? process.env,
      ...(options.simLatency !== undefined ? { latency: options.simLatency } : {}),
    });
    baseUrl = sim.url;
    stopSimulator = () => sim.close();
  }
  const concurrency = options.concurrency ?? run.plan.concurrency ?? DEFAULT_CONCURRENCY;
  const sleep = (ms: number, signal?: AbortSignal) =>
    delay(ms, undefined, signal ? { signal } : undefined);
  const client = createApiClient({
    ...(options.maxDownloadMb !== undefined
      ? { maxDownloadBytes: Math.floor(options.maxDownloadMb * 1024 * 1024) }
      : {}),
    baseUrl,
    apiKey: apiKey ?? 'none',
    connections: Math.min(128, Math.max(8, concurrency * 2)),
    gate: accountGate(concurrency, run.plan.rpm, sleep),
  });
  return {
    client: apiKey === undefined && options.teamRole === 'enqueue' ? keyless(client) : client,
    close: async () => {
      await client.close();
      await stopSimulator?.();
    },
  };
}

/**
 * The client of a run without a key (an enqueuer that only downloads): it never calls the
 * API, so no request goes out with a made-up key; a fresh link is simply not to be had.
 */
function keyless(client: ApiClient): ApiClient {
  const refuse = () =>
    Promise.reject(
      new ApiError('no API key on this machine: the API was not asked', { code: 'no_key' }),
    );
  return { ...client, submit: refuse, getTask: refuse };
}

/** The account pool's clients when the run has one and talks to the API. */
function openRunPool(run: PreparedRun, options: RunOptions): Promise<OpenPool | undefined> {
  if (!run.accounts || !needsApi(run)) return Promise.resolve(undefined);
  return openPool(run.accounts, {
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
    ...(options.maxDownloadMb !== undefined
      ? { maxDownloadBytes: Math.floor(options.maxDownloadMb * 1024 * 1024) }
      : {}),
  });
}

/** The run's API with the pool's clients beside it (closed with it). */
function withPool(api: Api, pool: OpenPool | undefined): Api {
  if (!pool) return api;
  return {
    ...api,
    accounts: pool.members,
    close: async () => {
      await api.close();
      await pool.close();
    },
  };
}

/** Team mode's board when `--team` is given and the run sends anything; no Redis code otherwise. */
async function openTeamRun(
  run: PreparedRun,
  apiKey: string | undefined,
  options: RunOptions,
  api: Api,
  warn?: (line: string) => void,
): Promise<(TeamHook & { close(): Promise<void> }) | undefined> {
  if (!options.team || !needsApi(run, options)) return undefined;
  const { openEnqueuer, openTeam } = await import('../team/open.js');
  const url = options.team;
  const opened =
    options.teamRole === 'enqueue'
      ? openEnqueuer({
          url,
          base: run.base.journalBase,
          shots: run.assessed,
          verify: !!apiKey,
          ...(options.waitUnknownMs ? { waitUnknownMs: options.waitUnknownMs } : {}),
        })
      : openTeam({
          url,
          apiKey: apiKey ?? '',
          baseUrl: api.client.baseUrl,
          cap: options.concurrency ?? run.plan.concurrency ?? DEFAULT_CONCURRENCY,
          ...(options.teamBudget !== undefined ? { budgetSeconds: options.teamBudget } : {}),
          ...(options.teamCampaign !== undefined ? { campaign: options.teamCampaign } : {}),
          ...(warn ? { warn } : {}),
          shots: run.assessed,
        });
  return opened.catch(async (error: unknown) => {
    await api.close();
    throw error;
  });
}

/** Renders the run's shots; the progress view opens and closes around it. */
async function renderShots(
  run: PreparedRun,
  api: Api,
  clean: (text: string) => string,
  options: RunOptions,
  callbacks: RunCallbacks,
  team?: TeamHook,
): Promise<RenderResult> {
  const env = options.env ?? process.env;
  await callbacks.onRenderStart?.(run);
  let receiver;
  try {
    receiver = options.listen
      ? await startReceiver(options.listen, options.publicUrl, api.client.baseUrl)
      : undefined;
    for (const a of run.assessed)
      if (a.state === 'gave_up') callbacks.onEvent?.(gaveUpEvent(a, Date.now()));
    const shots = renderable(run.assessed);
    const graph = run.chain
      ? chainGraph(
          shots,
          run.plan.shots,
          {
            ...run.chain,
            simulated: run.simulated,
            uploads: run.uploads?.config,
            target: run.uploads?.target ?? { allowCommand: false },
          },
          api.client,
        )
      : undefined;
    const result = await render(
      run.plan,
      shots,
      {
        outDir: run.outDir,
        concurrency: options.concurrency ?? run.plan.concurrency ?? DEFAULT_CONCURRENCY,
        ...(options.signal ? { signal: options.signal } : {}),
        journalBase: run.base.journalBase,
        journal: run.live,
        ...(run.caches ? { hashes: run.caches.hashes } : {}),
        ...(options.safetyPollSeconds !== undefined
          ? { poll: { safetyMs: options.safetyPollSeconds * 1000 } }
          : {}),
      },
      {
        client: api.client,
        ...(receiver ? { pushes: receiver.board } : {}),
        ...(graph ? { graph } : {}),
        ...(team ? { team } : {}),
        ...(api.accounts ? { accounts: api.accounts } : {}),
        // The simulator's address is known only now: wire.ts fills it into each body sent.
        ...(run.simulated ? { assetOrigin: api.client.baseUrl } : {}),
        onEvent: (e) => {
          if (e.type === 'failed' || e.type === 'unknown') e.error.message = clean(e.error.message);
          callbacks.onEvent?.(e);
        },
        verify: async (file, shot) => {
          try {
            await verifyVideo(file, {
              expectDurationSec: shot.seconds,
              toleranceSec: 0.5,
              env,
              ...(run.caches ? { cache: run.caches.probes } : {}),
            });
          } catch (err) {
            // Without ffprobe the length check is all there is; that is not the clip's fault.
            if ((err as { code?: string }).code !== 'tool_missing') throw err;
          }
        },
      },
    );
    return withGaveUp(result, run.assessed);
  } finally {
    await receiver?.close();
    await callbacks.onRenderEnd?.();
    await api.close();
  }
}

/** The exit code of a finished render: what this run's shots and finals came to. */
function exitOf(
  result: RenderResult,
  stitchFailed: number,
): Pick<RunResult, 'status' | 'exitCode'> {
  if (result.fatal) return { status: 'fatal', exitCode: result.fatal.exitCode };
  if (result.interrupted) return { status: 'interrupted', exitCode: EXIT_CODES.interrupted };
  return result.shots.every((s) => s.status === 'done') && stitchFailed === 0
    ? { status: 'done', exitCode: EXIT_CODES.ok }
    : { status: 'failed', exitCode: EXIT_CODES.shotsFailed };
}

/**
 * Renders a prepared run, stitches the variants it touched (only from complete sets of
 * verified clips) and writes a report of the whole manifest. `apiKey` is needed unless simulated.
 */
export async function executeRun(
  run: PreparedRun,
  apiKey: string | undefined,
  options: RunOptions = {},
  callbacks: RunCallbacks = {},
): Promise<RunResult> {
  refuseOverBudget(run, options);
  // Before the first submission: `merge --manifest` checks the folder's requests against it.
  if (options.shard) await writeShardMark(run.outDir, options.shard);
  const pool = await openRunPool(run, options);
  const key = run.simulated ? randomBytes(18).toString('base64url') : (pool?.keys[0] ?? apiKey);
  const clean = (text: string) => redact(text, pool ? pool.keys : key ? [key] : []);
  const api = withPool(await openApi(run, key, options), pool);
  if (needsApi(run)) {
    const log = callbacks.log;
    await uploadRunAssets(run, api.client, {
      env: options.env ?? process.env,
      log,
    }).catch(async (error: unknown) => {
      await api.close();
      throw error;
    });
  }
  const team = await openTeamRun(run, key, options, api, callbacks.warn);
  const result = await renderShots(run, api, clean, options, callbacks, team).finally(() =>
    team?.close(),
  );
  const env = options.env ?? process.env;

  const stopped = result.interrupted || !!result.fatal;
  // The finals and the report name each chained shot by the body its frame gave it.
  const fullPlan = await withRenderedFrames(run);
  // A shard holds part of each final: the finals are stitched after `shotlist merge`.
  if (options.shard && !stopped) callbacks.log?.(notStitchedNote(options.shard));
  const earlierReport = readRunReport(run.outDir).catch(() => undefined);
  const stitch =
    stopped || options.shard
      ? undefined
      : await stitchRendered(fullPlan, {
          outDir: run.outDir,
          base: run.base.journalBase,
          variants: run.plan.variants,
          env,
          journal: { shots: run.live.shots(), entries: run.live.entries },
          earlier: earlierReport,
          ...(run.caches ? { caches: run.caches } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(callbacks.log ? { log: callbacks.log } : {}),
          ...(callbacks.onStitchProgress ? { onProgress: callbacks.onStitchProgress } : {}),
        });

  const earlier = (await earlierReport)?.outputs ?? [];
  // The report describes the folder's renders: a failed re-render keeps the earlier clip.
  const kept = await withKeptClips(result.shots, run.assessed, run.outDir);
  const report = assembleReport({
    plan: fullPlan,
    assessed: [...run.assessed, ...run.others],
    render: { ...result, shots: kept.shots },
    entries: run.live.entries,
    picks: stitch?.picks,
    stale: stitch?.stale ?? [],
    outputs: mergeOutputs(run.outDir, earlier, stitch?.outputs ?? []),
    baseUrl: run.base.journalBase,
    simulated: run.simulated,
  });
  if (kept.notes.length > 0)
    report.warnings = [...(report.warnings ?? []), ...kept.notes.map(clean)];
  for (const s of report.shots) if (s.error) s.error.message = clean(s.error.message);
  const { writeReport } = await import('../report/write.js');
  const done = report.shots.filter((s) => s.status === 'done').length;
  const written = await writeReport(run.outDir, report, {
    env,
    media: done <= 200 && !options.signal?.aborted,
    ...(run.caches ? { probes: run.caches.probes } : {}),
  });
  return {
    ...exitOf(result, stitch?.failed.length ?? 0),
    prepared: run,
    render: result,
    ...(stitch ? { stitch } : {}),
    report: written.report,
    reportFiles: written.files,
    ...(result.fatal
      ? { fatal: { message: clean(result.fatal.message), fix: result.fatal.fix } }
      : {}),
  };
}
