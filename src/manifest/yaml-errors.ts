import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Document,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLError,
} from 'yaml';
import type { Severity } from '../errors.js';
import { unitOf } from './collector.js';
import type { ManifestPath } from './positions.js';

/** A YAML problem said in the manifest's words, and the part of the manifest it makes unreliable. */
export interface YamlProblem {
  severity: Severity;
  line: number;
  col: number;
  message: string;
  fix: string;
  /** Later checks say nothing under this path: what they would see there is the parser's guess. */
  unreliable: ManifestPath | undefined;
}

type AnyPair = Pair<unknown, unknown>;

function rangeOf(node: unknown): [number, number] | undefined {
  const range = (node as Node | null)?.range;
  return range ? [range[0], range[1]] : undefined;
}

/** The chain of pairs (and the manifest path) leading to the node written at `offset`. */
function chainAt(doc: Document, offset: number): { path: (string | number)[]; pairs: AnyPair[] } {
  const path: (string | number)[] = [];
  const pairs: AnyPair[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const start = rangeOf(p.key)?.[0];
        const end = rangeOf(p.value)?.[1] ?? rangeOf(p.key)?.[1];
        return start !== undefined && end !== undefined && start <= offset && offset <= end;
      });
      if (!pair) break;
      pairs.push(pair);
      path.push(isScalar(pair.key) ? String(pair.key.value) : '?');
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => {
        const r = rangeOf(item);
        return r !== undefined && r[0] <= offset && offset <= r[1];
      });
      if (index < 0) break;
      path.push(index);
      node = node.items[index];
    } else break;
  }
  return { path, pairs };
}

/**
 * `prompt: Scene: a cat`: a plain value holding ": " reads as a nested mapping on the key's
 * line. Finds that pair and writes the quoted line the user meant.
 */
function unquotedColon(
  doc: Document,
  lines: LineCounter,
  text: string,
  offset: number,
): Omit<YamlProblem, 'severity' | 'unreliable'> | undefined {
  const { pairs } = chainAt(doc, offset);
  for (const pair of pairs) {
    const key = rangeOf(pair.key);
    const value = rangeOf(pair.value);
    if (!isMap(pair.value) || pair.value.flow || !key || !value || !isScalar(pair.key)) continue;
    const keyLine = lines.linePos(key[0]).line;
    const at = lines.linePos(value[0]);
    if (at.line !== keyLine) continue;
    const lineEnd = text.indexOf('\n', value[0]);
    const written = text.slice(value[0], Math.min(value[1], lineEnd < 0 ? text.length : lineEnd));
    const name = String(pair.key.value);
    return {
      line: at.line,
      col: at.col,
      message: `the value of "${name}" contains ": ", which YAML reads as a key inside the value`,
      fix: `quote the value: ${name}: ${JSON.stringify(written.trim())}`,
    };
  }
  return undefined;
}

/**
 * `prompt: @image_file_1 walks in` or `prompt: "cat" walks`: a plain value may not start with
 * some characters, nor go on after a quoted or bracketed part. Quoting the whole value is the
 * fix: gives the line to write when the error is on a `key: value` line of block style.
 */
function quoteFix(text: string, lines: LineCounter, offset: number): string | undefined {
  const { line } = lines.linePos(offset);
  const start = lines.lineStarts[line - 1];
  if (start === undefined) return undefined;
  const end = text.indexOf('\n', start);
  const written = text.slice(start, end < 0 ? text.length : end);
  const match = /^\s*(?:-\s+)?([\w-]+):\s+(\S.*?)\s*$/.exec(written);
  if (!match) return undefined;
  return `quote the value: ${match[1]}: ${JSON.stringify(match[2])}`;
}

function duplicateKey(
  doc: Document,
  lines: LineCounter,
  offset: number,
): Omit<YamlProblem, 'severity' | 'unreliable' | 'line' | 'col'> {
  let found: { name: string; first: string; again: string } | undefined;
  const search = (node: unknown): void => {
    if (found) return;
    if (isMap(node)) {
      const at = node.items.findIndex((p) => rangeOf(p.key)?.[0] === offset);
      const pair = node.items[at];
      if (pair && isScalar(pair.key)) {
        const name = String(pair.key.value);
        const earlier = node.items.find(
          (p, i) => i < at && isScalar(p.key) && String(p.key.value) === name,
        );
        const first = lines.linePos(rangeOf(earlier?.key)?.[0] ?? offset);
        const again = lines.linePos(offset);
        found = { name, first: `${first.line}:${first.col}`, again: `${again.line}:${again.col}` };
        return;
      }
      for (const p of node.items) search(isPair(p) ? p.value : p);
    } else if (isSeq(node)) for (const item of node.items) search(item);
  };
  search(doc.contents);
  if (!found) {
    return {
      message: 'duplicate key: a key may appear only once in a mapping',
      fix: 'remove or rename one of the two',
    };
  }
  return {
    message: `duplicate key "${found.name}" at line ${found.again}: it is already set at line ${found.first}`,
    fix: `keep one "${found.name}" (YAML would silently use the last one)`,
  };
}

function translate(
  problem: YAMLError,
  doc: Document,
  lines: LineCounter,
  text: string,
): YamlProblem {
  const offset = problem.pos[0];
  const pos = lines.linePos(offset);
  const severity: Severity = problem.name === 'YAMLWarning' ? 'warning' : 'error';
  const unreliable = unitOf(chainAt(doc, offset).path);
  switch (problem.code) {
    case 'DUPLICATE_KEY':
      // The value read is well defined (the last one): later checks may look at it.
      return { severity, ...pos, ...duplicateKey(doc, lines, offset), unreliable: undefined };
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'BLOCK_IN_FLOW':
    case 'MULTILINE_IMPLICIT_KEY': {
      const colon = unquotedColon(doc, lines, text, offset);
      if (colon) return { severity, ...colon, unreliable };
      break;
    }
    case 'BAD_SCALAR_START':
    case 'UNEXPECTED_TOKEN': {
      const fix = quoteFix(text, lines, offset);
      if (fix) {
        const first = problem.message.split('\n')[0]!;
        return { severity, ...pos, message: `YAML: ${first}`, fix, unreliable };
      }
      break;
    }
  }
  return {
    severity,
    line: pos.line,
    col: pos.col,
    message: `YAML: ${problem.message.split('\n')[0]}`,
    fix: 'fix the YAML syntax at this place',
    unreliable,
  };
}

/**
 * A tab in the indentation makes the parser misread every line after it, in ways that name
 * no real mistake: the tab lines are said once, and what follows the first tab is not.
 */
function tabProblem(tabs: readonly YAMLError[], lines: LineCounter): YamlProblem {
  const at = lines.linePos(tabs[0]!.pos[0]);
  const rows = [...new Set(tabs.map((t) => lines.linePos(t.pos[0]).line))];
  const where = rows.length === 1 ? `line ${rows[0]} is` : `lines ${rows.join(', ')} are`;
  return {
    severity: 'error',
    line: at.line,
    col: at.col,
    message: `${where} indented with a tab; YAML indents with spaces only`,
    fix: `replace the tab${rows.length === 1 ? '' : 's'} with spaces`,
    unreliable: [],
  };
}

/**
 * The parser's errors and warnings, said in the manifest's words: an unquoted value with a
 * colon gets the quoted line to write, a duplicate key is named with both places, tabs in the
 * indentation are one problem (not one per line the parser misreads after them), and each
 * line says one thing.
 */
export function yamlProblems(doc: Document, lines: LineCounter, text: string): YamlProblem[] {
  const byPosition = (a: YAMLError, b: YAMLError) => a.pos[0] - b.pos[0];
  // Errors first, so a warning never takes an error's line.
  const all = [...[...doc.errors].sort(byPosition), ...[...doc.warnings].sort(byPosition)];
  const tabs = all.filter((p) => p.code === 'TAB_AS_INDENT');
  const firstTab = tabs[0]?.pos[0] ?? Infinity;
  const out: YamlProblem[] = tabs.length ? [tabProblem(tabs, lines)] : [];
  const lineTaken = new Set(out.map((p) => p.line));
  for (const problem of all) {
    if (problem.code === 'TAB_AS_INDENT' || problem.pos[0] >= firstTab) continue;
    const translated = translate(problem, doc, lines, text);
    if (lineTaken.has(translated.line)) continue;
    lineTaken.add(translated.line);
    out.push(translated);
  }
  return out;
}
