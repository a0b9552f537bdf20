import path from 'node:path';

/**
 * Where a manifest's renders go unless told: `renders/<name>` next to the manifest, so the
 * journal is found whichever folder a command is started from (`cd / && shotlist status
 * /proj/q3.yaml` sees the renders of `cd /proj && shotlist run q3.yaml`).
 */
export function defaultOutDir(manifest: { file: string; name: string }): string {
  return path.join(path.dirname(path.resolve(manifest.file)), 'renders', manifest.name);
}
