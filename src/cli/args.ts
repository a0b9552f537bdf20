import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { closest } from '../manifest/suggest.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * A flag `parseArgs` does not know: the known one it most likely meant, as a fix. Node's own
 * message suggests `--` for positionals starting with a dash, which is rarely what was meant.
 */
function unknownFlag(error: Error, options: Options, usage: string): UsageError | undefined {
  if ((error as NodeJS.ErrnoException).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return undefined;
  const flag = /'(-[^']*)'/.exec(error.message)?.[1];
  if (!flag) return undefined;
  const guess = flag.startsWith('--')
    ? closest(flag.slice(2).split('=')[0]!, Object.keys(options))
    : undefined;
  return new UsageError(
    `unknown flag ${flag}`,
    guess ? `did you mean --${guess}?` : `${usage.split('\n')[0]}; --help lists the options`,
  );
}

/**
 * `--max-cost -1` as `--max-cost=-1`: a value that looks like a negative number belongs to the
 * string flag before it (parseArgs would call it ambiguous), so the flag's own check can say
 * what is allowed.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const next = argv[i + 1];
    const name = word.startsWith('--') ? word.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next && /^-(\d|\.\d)/.test(next)) {
      out.push(`${word}=${next}`);
      i++;
    } else out.push(word);
  }
  return out;
}

/**
 * The help's line of the flag a parse error names (`Option '--listen <value>' argument
 * missing`): the fix says what the flag takes, not only the command's usage line.
 */
function flagHelp(message: string, usage: string): string | undefined {
  const flag = /'(--[a-z][a-z-]*)/.exec(message)?.[1];
  if (flag === undefined) return undefined;
  const lines = usage.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^\\s+${flag}(\\s|$)`).test(l));
  if (at < 0) return undefined;
  // The flag's line and its continuation lines (indented further, not another flag).
  const indent = /^\s*/.exec(lines[at]!)![0].length;
  const words = [lines[at]!.trim().replace(/\s{2,}/, ': ')];
  for (const l of lines.slice(at + 1)) {
    const own = /^\s*/.exec(l)![0].length;
    if (l.trim() === '' || own <= indent) break;
    words.push(l.trim());
  }
  return words.join(' ');
}

/** Strict `parseArgs` whose mistakes become UsageErrors (exit 2) naming the fix. */
export function parseCommandArgs<T extends Options>(
  argv: string[],
  options: T,
  usage: string,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
> {
  try {
    return parseArgs({
      args: joinNegativeValues(argv, options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw (
      unknownFlag(error as Error, options, usage) ??
      new UsageError(
        (error as Error).message.split('\n')[0] ?? 'bad arguments',
        flagHelp((error as Error).message, usage) ?? usage.split('\n')[0],
      )
    );
  }
}

/**
 * `--allow-outside`: lets a manifest read local files (a soundtrack) outside its folder tree.
 * Every command that loads a manifest takes it, so a manifest that validates also runs.
 */
export const ALLOW_OUTSIDE_FLAG = { 'allow-outside': { type: 'boolean' } } as const;

/**
 * `--allow-command`: lets the program a manifest's `uploads` name run. Only the user can
 * allow it (the flag, or `SHOTLIST_ALLOW_COMMAND=1`), never the manifest.
 */
export const ALLOW_COMMAND_FLAG = { 'allow-command': { type: 'boolean' } } as const;

/** Whether the user allowed the manifest's upload command: the flag, else the variable set to 1. */
export function allowCommandFrom(
  values: { 'allow-command'?: boolean | undefined },
  env: NodeJS.ProcessEnv,
): boolean {
  return values['allow-command'] === true || env.SHOTLIST_ALLOW_COMMAND?.trim() === '1';
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
      `${flag} must be ${integer ? 'a whole number, ' : ''}0 or more, not ${value}`,
      `e.g. ${flag} 4`,
    );
  }
  return n;
}
