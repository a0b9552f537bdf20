/**
 * Chained frames in a run: a shot whose images take a frame of another shot's clip gets that
 * frame cut (PNG, full resolution), addressed by its content like a local file, and its URL
 * put where the entry stands. The body then names the frame's hash, so the journal key of a
 * dependent changes whenever the clip it starts from does.
 */
import path from 'node:path';
import type { ApiClient } from '../api/client.js';
import { httpAssetTarget } from '../assets/http-target.js';
import { localAssetOf, type LocalAsset } from '../assets/local.js';
import { openUploadTarget, type UploadTargetOptions } from '../assets/open.js';
import { uploadAssets } from '../assets/upload.js';
import {
  describeFrame,
  framePlaceholder,
  frameDependencies,
  type FrameDependency,
} from '../manifest/frames.js';
import { UsageError } from '../errors.js';
import type { ShotlistManifest } from '../manifest/types.gen.js';
import { extractFrame } from '../media/frame.js';
import { takeKey } from '../manifest/identity.js';
import type { Plan, PlannedShot } from '../plan/types.js';
import type { ShotGraph } from '../render/graph.js';
import { assessShots, type AssessOptions, type AssessedShot } from '../render/state.js';
import { ensureDir, insideRoot } from '../safe-fs.js';
import { picksOfPlan } from './picks.js';
import type { ChainContext, PreparedRun } from './types.js';

export type { ChainContext };

/** A verified clip: where it is and its sha256 (what names the frames cut from it). */
interface Clip {
  file: string;
  sha256: string;
}

/** Whether a shot's body still waits for a frame (a placeholder among its images). */
export function waitsForFrames(shot: Pick<PlannedShot, 'request'>): boolean {
  return frameDependencies(shot.request.images).length > 0;
}

/** The shot of `shots` a frame comes from: same variant, the picked take (else take 1). */
function upstreamShot<T extends { shot: PlannedShot }>(
  items: readonly T[],
  dep: Pick<FrameDependency, 'from'>,
  variant: string | null,
  takeOf: ChainContext['takeOf'],
): T | undefined {
  const takes = items.filter((x) => x.shot.id === dep.from && x.shot.variant === variant);
  const take = takeOf(dep.from, variant);
  return takes.find((x) => x.shot.take === take) ?? takes.find((x) => x.shot.take === 1);
}

/**
 * One frame of a clip as a local asset: cut with ffmpeg, unless this process already cut it
 * and the file still holds exactly those bytes (the output folder is untrusted: a changed
 * file is cut again, never believed).
 */
async function frameOf(clip: Clip, dep: FrameDependency, ctx: ChainContext): Promise<LocalAsset> {
  // Named by the clip's content: every shot starting from the same frame shares one file.
  const file = insideRoot(ctx.outDir, `frames/${clip.sha256.slice(0, 16)}.${dep.frame}.png`);
  const memo = `${file}\n${clip.sha256}`;
  const refs = [framePlaceholder(dep)];
  // A run needs each frame when it starts (clips on disk), when the dependent is sent, and
  // again for the finals: the job remembers the PNG it cut (`ctx.frames`).
  const cut = ctx.frames?.get(memo);
  if (cut !== undefined) {
    const known = await localAssetOf(file, refs, 'image', ctx.location).catch(() => undefined);
    if (known && known.sha256 === cut) return known;
  }
  await extractFrame(clip.file, dep.frame, file, { env: ctx.env });
  const asset = await localAssetOf(file, refs, 'image', ctx.location);
  ctx.frames?.set(memo, asset.sha256);
  return asset;
}

/**
 * Cuts each frame the shot waits for from its clip (`clips` by upstream shot id) into
 * `frames/` of the output folder, and puts each frame's URL in the body where its entry stands.
 */
async function cutFrames(
  shot: PlannedShot,
  clips: ReadonlyMap<string, Clip>,
  ctx: ChainContext,
): Promise<{ shot: PlannedShot; assets: LocalAsset[] }> {
  const images = [...(shot.request.images ?? [])];
  const assets: LocalAsset[] = [];
  await ensureDir(ctx.outDir, 'frames');
  for (const dep of frameDependencies(shot.request.images)) {
    const clip = clips.get(dep.from);
    if (!clip) {
      throw new UsageError(
        `shot ${shot.id} takes ${describeFrame(dep)}, and ${dep.from} is not rendered in this run`,
        `render ${dep.from} first (in the same output folder), or run both together`,
      );
    }
    const asset = await frameOf(clip, dep, ctx);
    images[dep.image] = asset.url;
    assets.push(asset);
  }
  return { shot: { ...shot, request: { ...shot.request, images } }, assets };
}

/** The shot assessed against the journal, with its takes (the clip's name depends on them). */
async function assessOne(
  shot: PlannedShot,
  plan: readonly PlannedShot[],
  options: AssessOptions,
): Promise<AssessedShot> {
  const group = plan
    .filter((s) => s.id === shot.id && s.variant === shot.variant)
    .map((s) => (takeKey(s) === takeKey(shot) ? shot : s));
  const assessed = await assessShots({ shots: group }, options);
  return assessed.find((a) => takeKey(a.shot) === takeKey(shot))!;
}

/**
 * The plan with the frames of every shot whose upstream clips are already on disk (cached in
 * the journal) cut and addressed, down the chains; shots whose upstream is still to render
 * keep their placeholders. Also returns the frame files, to upload with the local assets.
 */
export async function resolveReadyFrames(
  plan: Plan,
  ctx: ChainContext,
): Promise<{ plan: Plan; assets: LocalAsset[] }> {
  if (!plan.shots.some(waitsForFrames)) return { plan, assets: [] };
  const shots = [...plan.shots];
  const assets: LocalAsset[] = [];
  const clipMemo = new Map<string, Promise<Clip | undefined>>();
  const clipOf = (up: PlannedShot) => {
    if (!clipMemo.has(takeKey(up))) {
      const found = assessOne(up, shots, ctx.assess).then((a) =>
        a.state === 'cached' && a.journal?.file
          ? { file: path.join(ctx.outDir, a.clip), sha256: a.journal.file.sha256 }
          : undefined,
      );
      clipMemo.set(takeKey(up), found);
    }
    return clipMemo.get(takeKey(up))!;
  };
  // Each pass settles one more link of every chain; a pass that settles none ends it.
  for (let changed = true; changed;) {
    changed = false;
    for (const [i, shot] of shots.entries()) {
      if (!waitsForFrames(shot)) continue;
      const clips = new Map<string, Clip>();
      for (const dep of frameDependencies(shot.request.images)) {
        const up = upstreamShot(
          shots.map((s) => ({ shot: s })),
          dep,
          shot.variant,
          ctx.takeOf,
        )?.shot;
        const clip = up && !waitsForFrames(up) ? await clipOf(up) : undefined;
        if (clip) clips.set(dep.from, clip);
      }
      if (clips.size < new Set(frameDependencies(shot.request.images).map((d) => d.from)).size)
        continue;
      const cut = await cutFrames(shot, clips, ctx);
      shots[i] = cut.shot;
      assets.push(...cut.assets);
      changed = true;
    }
  }
  return { plan: { ...plan, shots }, assets: uniqueAssets(assets) };
}

function uniqueAssets(assets: readonly LocalAsset[]): LocalAsset[] {
  return [...new Map(assets.map((a) => [a.sha256, a])).values()];
}

/**
 * The run's dependency graph for the renderer: a shot still waiting for frames starts once
 * its upstream shots are done; then its frames are cut from their clips, uploaded where the
 * run's local files go, and the shot is assessed again with its final body.
 */
export function chainGraph(
  assessed: readonly AssessedShot[],
  plan: readonly PlannedShot[],
  ctx: ChainContext & {
    simulated: boolean;
    uploads: ShotlistManifest['uploads'];
    target: UploadTargetOptions;
  },
  client: Pick<ApiClient, 'baseUrl'>,
): ShotGraph {
  return {
    upstream: (a) =>
      waitsForFrames(a.shot)
        ? [
            ...new Set(
              frameDependencies(a.shot.request.images).flatMap(
                (dep) => upstreamShot(assessed, dep, a.shot.variant, ctx.takeOf) ?? [],
              ),
            ),
          ]
        : undefined,
    ready: async (a, results) => {
      const clips = new Map<string, Clip>();
      for (const r of results) {
        if (r.file)
          clips.set(r.shot.id, { file: path.join(ctx.outDir, r.file.path), sha256: r.file.sha256 });
      }
      const cut = await cutFrames(a.shot, clips, ctx);
      const target = ctx.simulated
        ? httpAssetTarget(client.baseUrl)
        : await openUploadTarget(ctx.uploads, ctx.env, ctx.target);
      try {
        await uploadAssets(cut.assets, target);
      } finally {
        await target.close?.();
      }
      const ready = await assessOne(cut.shot, plan, ctx.assess);
      // The label and the queue entry the run showed stay the shot's.
      return { ...ready, label: a.label };
    },
  };
}

/** The chain context of a run: the picks of `plan`'s manifest decide which take a frame comes from. */
export async function chainContext(
  plan: Plan,
  ctx: Omit<ChainContext, 'takeOf'>,
): Promise<ChainContext> {
  if (!plan.shots.some((s) => s.depends_on)) return { ...ctx, takeOf: () => 1 };
  const picks = await picksOfPlan(plan, ctx.assess.baseUrl);
  return { ...ctx, takeOf: picks.takeOf };
}

/** The run's whole plan with the frames of every clip the journal now holds, after a render. */
export async function withRenderedFrames(
  run: Pick<PreparedRun, 'fullPlan' | 'chain' | 'live'>,
): Promise<Plan> {
  if (!run.chain || !run.fullPlan.shots.some(waitsForFrames)) return run.fullPlan;
  const { force: _, ...assess } = run.chain.assess;
  return (
    await resolveReadyFrames(run.fullPlan, {
      ...run.chain,
      assess: { ...assess, journal: run.live.shots() },
    })
  ).plan;
}
