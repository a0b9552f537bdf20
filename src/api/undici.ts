import { createRequire } from 'node:module';

/** Set by the CLI's bundle (scripts/bundle.mjs): undici bundled on its own, beside the chunks. */
declare const SHOTLIST_UNDICI_BUNDLE: string | undefined;

let loaded: typeof import('undici') | undefined;

/**
 * undici, loaded on first use: its hundred-odd files cost about 0.2 s of CPU at start-up,
 * which the commands that never reach a server (`plan`, `status`, `stitch`, `cost`, `pick`,
 * `review`) should not pay.
 */
export function undici(): typeof import('undici') {
  loaded ??= createRequire(import.meta.url)(
    typeof SHOTLIST_UNDICI_BUNDLE === 'string' ? SHOTLIST_UNDICI_BUNDLE : 'undici',
  ) as typeof import('undici');
  return loaded;
}
