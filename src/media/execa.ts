import type { execa as Execa } from 'execa';

let loaded: Promise<typeof Execa> | undefined;

/**
 * execa, loaded on first use: its hundred-odd modules cost about 0.25 s of CPU at start-up,
 * which the commands that run no ffmpeg (`plan`, `status`, `review`, `cost`) should not pay.
 */
export function loadExeca(): Promise<typeof Execa> {
  loaded ??= import('execa').then((m) => m.execa);
  return loaded;
}
