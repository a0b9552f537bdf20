import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

const schema = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../docs/events.schema.json'), 'utf8'),
) as object;
const validate = new Ajv2020({ allErrors: true }).compile(schema);

export type StreamEvent = Record<string, unknown> & { event: string; exit_code?: number };

/**
 * The events of a `--json` stdout, each line checked against docs/events.schema.json, and the
 * stream's end: a `summary` or `error` event whose `exit_code` is the process's.
 */
export function parseEvents(
  stdout: string,
  exitCode: number | undefined,
): { events: StreamEvent[]; last: StreamEvent } {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines.length).toBeGreaterThan(0);
  const events = lines.map((line) => {
    const event = JSON.parse(line) as StreamEvent;
    expect(validate(event), `${line}\n${JSON.stringify(validate.errors)}`).toBe(true);
    return event;
  });
  const last = events.at(-1)!;
  expect(['summary', 'error']).toContain(last.event);
  expect(last.exit_code).toBe(exitCode);
  return { events, last };
}
