import path from 'node:path';

/** Where a manifest's renders go unless told: `renders/<name>`. */
export function defaultOutDir(name: string): string {
  return path.join('renders', name);
}
