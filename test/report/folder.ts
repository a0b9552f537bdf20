import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { stitch } from '../../src/media/stitch.js';
import type { RunReport } from '../../src/report/types.js';
import { makeClip } from '../media/helpers.js';
import { sampleReport, shot } from './sample.js';

/**
 * A run's folder as the renderer leaves it: two done clips (one with a hostile file name),
 * a failed shot, a pending one, and a stitched output. Returns the report to write.
 */
export async function makeRunFolder(dir: string): Promise<RunReport> {
  await mkdir(path.join(dir, 'clips'), { recursive: true });
  const odd = `s02 it's #1 橘猫.mp4`;
  await Promise.all([
    makeClip(path.join(dir, 'clips', 's01.mp4'), { seconds: 1 }),
    makeClip(path.join(dir, 'clips', odd), { seconds: 1, width: 90, height: 160, audio: false }),
  ]);
  const final = await stitch({
    output: path.join(dir, 'final.mp4'),
    clips: [
      { file: path.join(dir, 'clips', 's01.mp4'), id: 's01' },
      { file: path.join(dir, 'clips', odd), id: 's02' },
    ],
    transition: { type: 'cut', duration: 0 },
    audio: 'keep',
    size: { width: 160, height: 90 },
    fit: 'pad',
    crf: 35,
    preset: 'ultrafast',
  });
  return sampleReport(
    [
      shot({ id: 's01', prompt: '一只橘猫在花园里追逐蝴蝶 <script>alert(1)</script>' }),
      shot({
        id: 's02',
        key: 's02/take:1',
        mode: 'image_to_video',
        file: `clips/${odd}`,
        ratio: '9:16',
      }),
      shot({
        id: 's03',
        status: 'failed',
        file: null,
        error: { code: 'content_filter', message: 'the prompt was refused' },
      }),
      shot({ id: 's04', status: 'pending', file: null, task_id: null }),
    ],
    {
      outputs: [
        {
          variant: null,
          file: 'final.mp4',
          duration: final.durationSec,
          path: final.path,
          warnings: final.warnings,
        },
      ],
    },
  );
}
