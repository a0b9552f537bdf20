/** The drafts of the cut `stitch --preview` made, for the review page's "play the cut". */
import { previewName } from '../media/exports.js';
import { outputName } from '../media/outputs.js';
import type { Plan } from '../plan/types.js';
import { regularFile } from '../safe-fs.js';

/** Each variant's `final[.<variant>].preview.mp4` that is a plain file in the output folder. */
export async function previewFiles(
  plan: Pick<Plan, 'variants' | 'stitch'>,
  outDir: string,
): Promise<{ variant: string | null; file: string }[]> {
  const final = (plan.stitch as { output?: string } | null)?.output ?? 'final.mp4';
  const found: { variant: string | null; file: string }[] = [];
  for (const variant of plan.variants) {
    const file = previewName(outputName(final, variant));
    if (await regularFile(outDir, file)) found.push({ variant, file });
  }
  return found;
}
