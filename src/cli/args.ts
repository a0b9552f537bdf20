import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict `parseArgs` whose mistakes become UsageErrors (exit 2) naming the fix. */
export function parseCommandArgs<T extends Options>(
  argv: string[],
  options: T,
  usage: string,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(
      (error as Error).message.split('\n')[0] ?? 'bad arguments',
      usage.split('\n')[0],
    );
  }
}

/** `a,b , c` -> `['a','b','c']`. */
export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A number flag: NaN or a negative value is a usage error. */
export function numberFlag(
  value: string | undefined,
  flag: string,
  integer = false,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `${flag} ${value} is not a ${integer ? 'whole ' : ''}number >= 0`,
      `e.g. ${flag} 4`,
    );
  }
  return n;
}
