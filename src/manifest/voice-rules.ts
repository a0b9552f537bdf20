/**
 * `validate`'s checks of the sound and logo layers: the files they name (present, inside the
 * manifest's folder), the variants they name, and, once the audio files are measured, that
 * each voice-over fits its shot and whether the soundtrack lasts as long as the cut.
 */
import path from 'node:path';
import type { Collector } from './collector.js';
import { checkLocalFile, isLocalReference } from './local-files.js';
import type { ManifestPath } from './positions.js';
import { resolveShot } from './resolve.js';
import { keptLength, transitionSpec } from './stitch-rules.js';
import type { Overlay, ShotlistManifest } from './types.gen.js';

/** A local audio file the manifest names, where, and what it is. */
export interface NamedAudio {
  /** Absolute path. */
  file: string;
  /** Where its `file` is written in the manifest. */
  path: ManifestPath;
  what: 'soundtrack' | 'voice-over';
}

/** The tempo factors `stretch_end` may apply (0.8x slower to 1.25x faster): here and in the stitcher. */
export const STRETCH_LIMITS = { min: 0.8, max: 1.25 } as const;

function seconds(n: number): string {
  return `${Number(n.toFixed(3))} s`;
}

function overlays(manifest: ShotlistManifest): Overlay[] {
  const logo = manifest.stitch?.logo;
  return logo === undefined ? [] : Array.isArray(logo) ? logo : [logo];
}

/** The shot-level voice-overs: the shot's index, its file and offset, where `file` is written. */
function shotVoices(manifest: ShotlistManifest) {
  // Checked beside the schema's own errors: a manifest without its shots has no voice-overs.
  const shots: readonly ShotlistManifest['shots'][number][] = Array.isArray(manifest.shots)
    ? manifest.shots
    : [];
  return shots.flatMap((shot, i) => {
    const v = shot?.voiceover;
    const spec = typeof v === 'string' ? { file: v } : v;
    if (typeof spec?.file !== 'string') return [];
    const at: ManifestPath =
      typeof v === 'string' ? ['shots', i, 'voiceover'] : ['shots', i, 'voiceover', 'file'];
    return [{ shot: i, spec, at }];
  });
}

/** Every local audio file the layers name (soundtrack, voice-overs), resolved against `dir`. */
export function namedAudio(manifest: ShotlistManifest, dir: string): NamedAudio[] {
  const out: NamedAudio[] = [];
  const track = manifest.stitch?.soundtrack?.file;
  if (typeof track === 'string' && isLocalReference(track)) {
    out.push({
      file: path.resolve(dir, track),
      path: ['stitch', 'soundtrack', 'file'],
      what: 'soundtrack',
    });
  }
  for (const v of shotVoices(manifest)) {
    out.push({ file: path.resolve(dir, v.spec.file), path: v.at, what: 'voice-over' });
  }
  const cut = manifest.stitch?.voiceover;
  if (cut)
    out.push({
      file: path.resolve(dir, cut.file),
      path: ['stitch', 'voiceover', 'file'],
      what: 'voice-over',
    });
  return out;
}

/**
 * The voice-over and logo files exist inside the manifest's folder (unless `allowOutside`), and
 * every `variants` list names variants of the manifest.
 */
export function checkLayerFiles(
  manifest: ShotlistManifest,
  out: Collector,
  dir: string,
  allowOutside = false,
): void {
  const files: [string, ManifestPath, string][] = [];
  for (const v of shotVoices(manifest)) files.push([v.spec.file, v.at, 'voice-over file']);
  const cut = manifest.stitch?.voiceover;
  if (typeof cut?.file === 'string')
    files.push([cut.file, ['stitch', 'voiceover', 'file'], 'voice-over file']);
  const logos = overlays(manifest);
  const logoPath = (j: number): ManifestPath =>
    Array.isArray(manifest.stitch?.logo) ? ['stitch', 'logo', j] : ['stitch', 'logo'];
  logos.forEach((o, j) => {
    if (typeof o?.file === 'string') files.push([o.file, [...logoPath(j), 'file'], 'logo file']);
  });
  for (const [ref, at, what] of files) {
    const problem = checkLocalFile(ref, dir, what, allowOutside);
    if (problem) out.at('error', at, problem.message, problem.fix);
  }
  const names = (manifest.variants ?? []).map((v) => v?.name);
  const lists: [readonly string[] | undefined, ManifestPath][] = [
    ...shotVoices(manifest).map((v): [readonly string[] | undefined, ManifestPath] => [
      v.spec.variants,
      ['shots', v.shot, 'voiceover', 'variants'],
    ]),
    [cut?.variants, ['stitch', 'voiceover', 'variants']],
    ...logos.map((o, j): [readonly string[] | undefined, ManifestPath] => [
      o.variants,
      [...logoPath(j), 'variants'],
    ]),
  ];
  for (const [list, at] of lists) {
    list?.forEach((name, k) => {
      if (names.includes(name)) return;
      out.at(
        'error',
        [...at, k],
        `variants names "${name}", which is not a variant of this manifest`,
        names.length > 0
          ? `use one of: ${names.join(', ')}`
          : 'remove variants: the manifest has none',
      );
    });
  }
  logos.forEach((o, j) => {
    if ((o.x === undefined) !== (o.y === undefined)) {
      out.at(
        'error',
        [...logoPath(j), o.x === undefined ? 'y' : 'x'],
        'a logo placed at a point needs both x and y',
        'give x and y (shares of the frame), or use corner',
      );
    }
    if (o.start !== undefined && o.end !== undefined && o.end <= o.start) {
      out.at(
        'error',
        [...logoPath(j), 'end'],
        `logo end ${o.end} is not after start ${o.start}`,
        'keep end > start',
      );
    }
  });
}

/** The cut's planned length in one variant: kept lengths minus the transitions' overlaps. */
export function cutLength(manifest: ShotlistManifest, variant: number | null): number {
  const index = new Map(manifest.shots.map((s, i) => [s?.id, i]));
  const order = manifest.stitch?.order ?? manifest.shots.map((s) => s?.id);
  const shots = order.flatMap((id) => {
    const s = index.get(id);
    return s === undefined ? [] : [resolveShot(manifest, s, variant)];
  });
  const wide = transitionSpec(manifest.stitch?.transition, ['stitch', 'transition']);
  return shots.reduce((sum, shot, k) => {
    const own = shot.origins.transition;
    const out = own ? transitionSpec(shot.transition, own) : wide;
    return sum + keptLength(shot) - (k < shots.length - 1 ? (out?.duration ?? 0) : 0);
  }, 0);
}

/**
 * With the audio files measured (`lengths`: absolute path to seconds; a file that could not be
 * measured is absent): a shot's voice-over must end within the shot's kept part (an error),
 * and a soundtrack shorter than the cut, which would leave silence, gets a warning.
 */
export function checkAudioLengths(
  manifest: ShotlistManifest,
  dir: string,
  lengths: ReadonlyMap<string, number>,
  out: Collector,
): void {
  const variants: (number | null)[] = manifest.variants
    ? manifest.variants.map((_, i) => i)
    : [null];
  for (const v of shotVoices(manifest)) {
    const sec = lengths.get(path.resolve(dir, v.spec.file));
    if (sec === undefined) continue;
    const offset = v.spec.offset ?? 0;
    for (const variant of variants) {
      const shot = resolveShot(manifest, v.shot, variant);
      const kept = keptLength(shot);
      if (offset + sec <= kept + 0.05) continue;
      const name = variant === null ? '' : ` in variant ${shot.variant}`;
      out.at(
        'error',
        v.at,
        `the voice-over of shot ${shot.id} lasts ${seconds(sec)}${offset ? ` from offset ${offset}` : ''}, longer than the shot's ${seconds(kept)}${shot.trim ? ' after its trim' : ''}${name}`,
        `shorten the recording to ${seconds(Math.max(0, kept - offset))}, lower its offset, make the shot longer (duration), or move it to stitch.voiceover`,
      );
      break;
    }
  }
  checkCutVoice(manifest, dir, lengths, variants, out);
  checkSoundtrackLength(manifest, dir, lengths, variants, out);
}

/** The cut-wide voice-over should end with the cut (in every variant it applies to). */
function checkCutVoice(
  manifest: ShotlistManifest,
  dir: string,
  lengths: ReadonlyMap<string, number>,
  variants: readonly (number | null)[],
  out: Collector,
): void {
  const voice = manifest.stitch?.voiceover;
  if (typeof voice?.file !== 'string') return;
  const sec = lengths.get(path.resolve(dir, voice.file));
  if (sec === undefined) return;
  const offset = voice.offset ?? 0;
  const applies = variants.filter((v) => {
    const name = v === null ? undefined : manifest.variants?.[v]?.name;
    return !voice.variants || name === undefined || voice.variants.includes(name);
  });
  if (applies.length === 0) return;
  const cut = Math.min(...applies.map((v) => cutLength(manifest, v)));
  if (offset + sec <= cut + 0.05) return;
  out.at(
    'warning',
    ['stitch', 'voiceover', 'file'],
    `the voice-over lasts ${seconds(sec)}${offset ? ` from ${seconds(offset)}` : ''} but the cut ${seconds(cut)}: its last ${seconds(offset + sec - cut)} would be cut off`,
    `shorten the recording to ${seconds(Math.max(0, cut - offset))} or start it earlier (offset)`,
  );
}

function checkSoundtrackLength(
  manifest: ShotlistManifest,
  dir: string,
  lengths: ReadonlyMap<string, number>,
  variants: readonly (number | null)[],
  out: Collector,
): void {
  const track = manifest.stitch?.soundtrack;
  if (!track || !isLocalReference(track.file) || track.fit === 'loop') return;
  const sec = lengths.get(path.resolve(dir, track.file));
  if (sec === undefined) return;
  const cut = Math.max(...variants.map((v) => cutLength(manifest, v)));
  // stretch_end slows the track by at most 1 / 0.8: up to that, it still ends with the cut.
  const reach = track.fit === 'stretch_end' ? sec / STRETCH_LIMITS.min : sec;
  if (reach + 0.05 >= cut) return;
  out.at(
    'warning',
    ['stitch', 'soundtrack', 'file'],
    `the soundtrack lasts ${seconds(sec)} but the cut ${seconds(cut)}: the last ${seconds(cut - reach)} would have no music`,
    track.fit === 'stretch_end'
      ? 'stretch_end slows a track by at most 20%: use fit: loop, or a longer track'
      : 'set soundtrack fit: loop (repeat it) or fit: stretch_end (slow it down to end with the cut), or use a longer track',
  );
}
