import { describe, expectTypeOf, it } from 'vitest';
import type { Stitch } from '../../src/manifest/types.gen.js';
import type { StitchSpec } from '../../src/media/outputs.js';

describe('stitch spec', () => {
  // A type test: vitest's type checker runs it (vitest.config.ts `typecheck`), so a hand-kept
  // copy of the schema's type that drifts from it fails `vitest run`, not only the type check.
  it('is the schema generated type', () => {
    expectTypeOf<StitchSpec>().toEqualTypeOf<Stitch>();
  });
});
