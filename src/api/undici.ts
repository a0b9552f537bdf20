import { createRequire } from 'node:module';

let loaded: typeof import('undici') | undefined;

/**
 * undici, loaded on first use: its hundred-odd files cost about 0.2 s of CPU at start-up,
 * which the commands that never reach a server (`plan`, `status`, `stitch`, `cost`, `pick`,
 * `review`) should not pay.
 */
export function undici(): typeof import('undici') {
  loaded ??= createRequire(import.meta.url)('undici') as typeof import('undici');
  return loaded;
}
