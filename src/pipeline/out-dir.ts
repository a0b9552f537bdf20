import path from 'node:path';

/**
 * Where a manifest's renders go unless told: `renders/<name>` next to the manifest, so the
 * journal is found whichever folder a command is started from (`cd / && shotlist status
 * /proj/q3.yaml` sees the renders of `cd /proj && shotlist run q3.yaml`). Shard i of n goes
 * beside it, to `renders/<name>.shard-<i>-of-<n>`: never inside the folder `merge` fills.
 * Simulated renders go to `renders/<name>.simulated` (an output folder belongs to one API).
 */
export function defaultOutDir(
  manifest: { file: string; name: string },
  shard?: { index: number; count: number },
  options: { simulated?: boolean } = {},
): string {
  const name = shard ? `${manifest.name}.shard-${shard.index}-of-${shard.count}` : manifest.name;
  const folder = options.simulated ? `${name}.simulated` : name;
  return path.join(path.dirname(path.resolve(manifest.file)), 'renders', folder);
}
