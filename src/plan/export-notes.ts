/** The plan's word on deliverables: which ones are upscaled from smaller clips, and by how much. */
import { exportFileName, resolveExport } from '../manifest/export-rules.js';
import type { Stitch } from '../manifest/types.gen.js';
import { PIXEL_SIZES } from '../models.js';
import type { Plan } from './types.js';

/**
 * One line per deliverable of `stitch.exports` larger than the clips it is made from, e.g.
 * `export final.vertical.tiktok.mp4: 1080x1920 from 720x1280 clips, upscaled x1.5 (lanczos)`.
 */
export function upscaleNotes(
  plan: Pick<Plan, 'shots' | 'stitch' | 'order' | 'variants'>,
): string[] {
  const spec = (plan.stitch ?? {}) as Stitch;
  if (!spec.exports) return [];
  const order = spec.order ?? plan.order;
  const lines: string[] = [];
  for (const variant of plan.variants) {
    const first = order
      .map((id) => plan.shots.find((s) => s.id === id && s.variant === variant && s.take === 1))
      .find((s) => s !== undefined);
    if (!first) continue;
    const clip = PIXEL_SIZES[first.size]?.[first.ratio];
    if (!clip) continue;
    const output = spec.output ?? 'final.mp4';
    const final = variant ? exportFileName(output, variant) : output;
    for (const exp of spec.exports.map(resolveExport)) {
      if (exp.variants && (variant === null || !exp.variants.includes(variant))) continue;
      if (!exp.size) continue;
      const fill = spec.fit === 'crop' ? Math.max : Math.min;
      const scale = fill(exp.size.width / clip.width, exp.size.height / clip.height);
      if (scale <= 1.001) continue;
      lines.push(
        `export ${exportFileName(final, exp.name)}: ${exp.size.width}x${exp.size.height} from ${clip.width}x${clip.height} clips, upscaled x${Number(scale.toFixed(2))} (lanczos)`,
      );
    }
  }
  return lines;
}
