/**
 * Chooses how progress is drawn, the way lint-staged does: a pure function of the options
 * and the environment, so the choice is tested without a terminal.
 */
export type RendererName = 'listr' | 'plain' | 'json';

export interface RendererChoice {
  json?: boolean;
  /** Whether the output is a terminal. */
  isTTY?: boolean;
  /** Shots in the run: a task list of thousands of lines helps nobody. */
  shots?: number;
}

/** The most shots drawn as a live task list; larger runs get the plain log. */
export const MAX_LISTR_SHOTS = 200;

/** An environment flag as CI systems set it: anything but unset, empty, `0` or `false`. */
export function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** `json` with --json; `plain` without a TTY, with `CI` set or a dumb terminal; else `listr`. */
export function getRenderer(options: RendererChoice, env: NodeJS.ProcessEnv): RendererName {
  if (options.json) return 'json';
  if (!options.isTTY) return 'plain';
  if (truthy(env.CI) || env.TERM === 'dumb') return 'plain';
  if ((options.shots ?? 0) > MAX_LISTR_SHOTS) return 'plain';
  return 'listr';
}
