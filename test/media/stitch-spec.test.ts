import { describe, expectTypeOf, it } from 'vitest';
import type { Stitch } from '../../src/manifest/types.gen.js';
import type { StitchSpec } from '../../src/media/outputs.js';

describe('stitch spec', () => {
  // Checked by `npm run typecheck`: a hand-kept copy of the schema's type would drift from it.
  it('is the schema generated type', () => {
    expectTypeOf<StitchSpec>().toEqualTypeOf<Stitch>();
  });
});
