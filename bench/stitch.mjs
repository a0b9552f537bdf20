// Stitch speed on 24 uniform 720p clips: the copy path against `cp` of the same bytes, and the
// re-encoding path as a multiple of real time. Run after `npm run build`.
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { median, timeItAsync } from './util.mjs';

const CLIPS = 24;
const SECONDS = 5;

/** One 5 s 1280x720 24 fps H.264 + AAC clip, copied 24 times: uniform, as one model renders. */
async function makeClips(dir, ffmpeg) {
  const first = path.join(dir, 'clip-00.mp4');
  await execa(ffmpeg, [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=24:duration=${SECONDS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-ac',
    '2',
    '-movflags',
    '+faststart',
    first,
  ]);
  const files = [first];
  for (let i = 1; i < CLIPS; i++) {
    const file = path.join(dir, `clip-${String(i).padStart(2, '0')}.mp4`);
    await copyFile(first, file);
    files.push(file);
  }
  return files;
}

/**
 * Measures stitching. Returns `{ name: { value, unit, note? } }`:
 * - `stitch_copy_vs_cp`: the whole copy-path stitch (24 probes, the concat demuxer with
 *   `-c copy`, the ffprobe check, the rename) over `cp` of the same 24 files, medians of
 *   `repeats` runs taken alternately.
 * - `stitch_copy_warm_vs_cp`: the same when the clips were already probed in this process, as
 *   they are in `run` (each download is checked with ffprobe before the stitch).
 * - `stitch_copy_ffmpeg_vs_cp`: the same with only the ffmpeg run timed (clips probed once).
 * - `stitch_normalise_realtime`: output seconds per wall second when `normaliseClips` clips
 *   are re-encoded with a 0.5 s fade between each (xfade; hard cuts on an ffmpeg without it)
 *   at the defaults (libx264 crf 20, preset veryfast, AAC), one run.
 */
export async function benchStitch({ repeats = 5, normaliseClips = 8 } = {}) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const dist = (p) => pathToFileURL(path.join(root, 'dist', p)).href;
  const { stitch } = await import(dist('media/stitch.js'));
  const { planStitch } = await import(dist('media/stitch-plan.js'));
  const { ProbeCache, probeAll } = await import(dist('media/probe.js'));
  const { locateTool, detectFeatures } = await import(dist('media/locate.js'));

  const features = await detectFeatures(locateTool('ffmpeg'));
  const dir = await mkdtemp(path.join(tmpdir(), 'shotlist-bench-stitch-'));
  try {
    const files = await makeClips(dir, features.path);
    const bytes = (await Promise.all(files.map((f) => stat(f)))).reduce((s, f) => s + f.size, 0);
    const base = {
      clips: files.map((file, i) => ({ file, id: `s${i}` })),
      transition: { type: 'cut', duration: 0 },
      audio: 'keep',
      size: { width: 1280, height: 720 },
      fit: 'pad',
      crf: 20,
      preset: 'veryfast',
    };
    // As in `run`, whose cache holds the probe of each download it checked.
    const warm = new ProbeCache();
    const probes = await probeAll(files, { cache: warm });

    const cpTimes = [];
    const stitchTimes = [];
    const warmTimes = [];
    const ffmpegTimes = [];
    for (let i = 0; i < repeats; i++) {
      const cpDir = path.join(dir, `cp-${i}`);
      await mkdir(cpDir);
      cpTimes.push(await timeItAsync(() => execa('cp', [...files, cpDir])));
      await rm(cpDir, { recursive: true });

      const out = path.join(dir, `copy-${i}.mp4`);
      let result;
      stitchTimes.push(
        await timeItAsync(async () => {
          result = await stitch({ ...base, output: out });
        }),
      );
      if (result.path !== 'copy') throw new Error(`expected the copy path, got ${result.path}`);
      await rm(out);
      // As in `run`: every clip was probed when its download was checked.
      warmTimes.push(await timeItAsync(() => stitch({ ...base, output: out }, { probes: warm })));
      await rm(out);

      const plan = planStitch({ ...base, output: out }, probes, {
        features,
        listFile: path.join(dir, 'list.txt'),
      });
      await writeFile(plan.listFile, plan.concatList);
      ffmpegTimes.push(await timeItAsync(() => execa(features.path, plan.args)));
      await rm(out);
    }

    const subset = files.slice(0, normaliseClips);
    const normOut = path.join(dir, 'normalise.mp4');
    let norm;
    const normMs = await timeItAsync(async () => {
      norm = await stitch({
        ...base,
        clips: subset.map((file, i) => ({ file, id: `s${i}` })),
        transition: { type: 'fade', duration: 0.5 },
        output: normOut,
      });
    });

    const cp = median(cpTimes);
    const mb = (bytes / 2 ** 20).toFixed(1);
    const transitions = features.filters.has('xfade')
      ? 'a 0.5 s xfade fade between each'
      : 'hard cuts (this ffmpeg has no xfade)';
    return {
      stitch_copy_vs_cp: {
        value: round(median(stitchTimes) / cp),
        unit: 'x cp time',
        note: `${CLIPS} x ${SECONDS} s 720p24 clips (${mb} MiB), cold: includes ${CLIPS} ffprobe runs; median of ${repeats}`,
      },
      stitch_copy_warm_vs_cp: {
        value: round(median(warmTimes) / cp),
        unit: 'x cp time',
        note: 'clips already probed in this process, as in run',
      },
      stitch_copy_ffmpeg_vs_cp: {
        value: round(median(ffmpegTimes) / cp),
        unit: 'x cp time',
        note: 'the ffmpeg -c copy run alone',
      },
      stitch_copy_ms: { value: round(median(stitchTimes)), unit: 'ms' },
      stitch_copy_warm_ms: { value: round(median(warmTimes)), unit: 'ms' },
      stitch_copy_ffmpeg_ms: { value: round(median(ffmpegTimes)), unit: 'ms' },
      stitch_cp_ms: { value: round(cp), unit: 'ms' },
      stitch_normalise_realtime: {
        value: round(norm.durationSec / (normMs / 1000)),
        unit: 'x real time',
        note: `${normaliseClips} of the clips re-encoded to ${round(norm.durationSec)} s at 1280x720 with ${transitions}; libx264 veryfast crf 20 + AAC; ${os.availableParallelism()} cores`,
      },
      stitch_normalise_ms: { value: round(normMs), unit: 'ms' },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function round(x) {
  return Math.round(x * 100) / 100;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchStitch(), null, 2));
}
