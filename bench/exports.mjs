// Deliverable and preview speed on a 60 s film: twelve 5.5 s 720p clips (one, copied), stitched
// with a 0.5 s fade between each, as a 1920x1080 `youtube` deliverable (lanczos upscale, two
// loudnorm passes, the ebur128 measurement) and as `stitch --preview`'s 360 px draft. Run after
// `npm run build`.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';

const CLIPS = 12;
const SECONDS = 5.5;

async function makeClips(dir, ffmpeg) {
  const first = path.join(dir, 'clip-00.mp4');
  await execa(ffmpeg, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=24:duration=${SECONDS}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-ac', '2', first],
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
 * Returns `{ export_1080p_realtime, preview_60s_seconds, preview_realtime }`: output seconds per
 * wall second of the 1080p deliverable (every pass counted), and the draft's wall time.
 */
export async function benchExports() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const dist = (p) => pathToFileURL(path.join(root, 'dist', p)).href;
  const { stitch } = await import(dist('media/stitch.js'));
  const { exportJobs, previewJob } = await import(dist('media/exports.js'));
  const { locateTool, detectFeatures } = await import(dist('media/locate.js'));
  const features = await detectFeatures(locateTool('ffmpeg'));
  const dir = await mkdtemp(path.join(tmpdir(), 'shotlist-bench-exports-'));
  try {
    const files = await makeClips(dir, features.path);
    const final = {
      variant: null,
      options: {
        output: path.join(dir, 'final.mp4'),
        clips: files.map((file, i) => ({ file, id: `s${i}` })),
        transition: { type: 'fade', duration: 0.5 },
        audio: 'keep',
        size: { width: 1280, height: 720 },
        fit: 'pad',
        crf: 20,
        preset: 'veryfast',
      },
    };
    const [youtube] = exportJobs({ exports: ['youtube'], loudness: 'streaming' }, final);
    let t0 = performance.now();
    const made = await stitch(youtube.options, { features });
    const exportSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const draft = await stitch(previewJob(final).options, { features });
    const previewSeconds = (performance.now() - t0) / 1000;
    const note = `${CLIPS} x ${SECONDS} s 720p clips, 0.5 s fades, ${made.durationSec.toFixed(1)} s cut`;
    return {
      export_1080p_realtime: {
        value: made.durationSec / exportSeconds,
        unit: 'x real time',
        note: `youtube deliverable (1920x1080 30 fps, lanczos, crf 20 veryfast, loudnorm 2 passes + ebur128): ${note}`,
      },
      preview_60s_seconds: {
        value: previewSeconds,
        unit: 's',
        target: '< 10',
        note: `stitch --preview draft (${draft.probe.video?.width}x${draft.probe.video?.height} 15 fps ultrafast): ${note}`,
      },
      preview_realtime: {
        value: draft.durationSec / previewSeconds,
        unit: 'x real time',
        note: 'the same draft',
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
