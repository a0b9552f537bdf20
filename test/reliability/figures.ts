import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';

/** Records one check's figures for the summary printed at the end of the suite. */
export function record(
  suite: string,
  name: string,
  passed: boolean,
  figures: Record<string, number | string>,
): void {
  const file = `${suite}-${name}`.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  writeFileSync(
    path.join(inject('figuresDir'), `${file}.json`),
    JSON.stringify({ suite, name, passed, figures }),
  );
}
