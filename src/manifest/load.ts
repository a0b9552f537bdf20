import { readFile, stat } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { ManifestError, type Diagnostic, type Severity } from '../errors.js';
import { checkRequest } from '../plan/contract.js';
import { RESERVED_METADATA, buildRequest, type Origin } from '../plan/request.js';
import { SourceMap, toPointer, type ManifestPath } from './positions.js';
import { resolveShot } from './resolve.js';
import { checkSchema } from './schema.js';
import { closest } from './suggest.js';
import type { ShotlistManifest } from './types.gen.js';
import { expandVars, type VarProblem } from './vars.js';

/** Manifests larger than this are refused before parsing. */
export const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;
/** Aliases a manifest may use; far more than a storyboard needs, far fewer than a bomb. */
export const MAX_ALIAS_COUNT = 100;

/** A manifest that passed validation, with its variables expanded and its source kept. */
export interface LoadedManifest {
  file: string;
  manifest: ShotlistManifest;
  source: SourceMap;
  /** Problems that do not stop a run. */
  warnings: Diagnostic[];
}

export interface CheckResult {
  /** Present when there are no errors. */
  loaded?: LoadedManifest;
  diagnostics: Diagnostic[];
}

class Collector {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly file: string,
    private source: SourceMap | undefined,
  ) {}

  setSource(source: SourceMap): void {
    this.source = source;
  }

  at(
    severity: Severity,
    path: ManifestPath,
    message: string,
    fix?: string,
    options: { key?: boolean } = {},
  ): void {
    const pos = this.source?.locate(path, options) ?? { line: 1, col: 1 };
    this.push({ severity, path: toPointer(path), line: pos.line, col: pos.col, message, fix });
  }

  push(d: Omit<Diagnostic, 'file' | 'fix'> & { fix?: string | undefined }): void {
    const id = `${d.line}:${d.col}:${d.message}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.diagnostics.push({
      severity: d.severity,
      file: this.file,
      line: d.line,
      col: d.col,
      path: d.path,
      message: d.message,
      ...(d.fix ? { fix: d.fix } : {}),
    });
  }

  get errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === 'error').length;
  }
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort((a, b) => a.line - b.line || a.col - b.col);
}

/**
 * Checks manifest text without throwing: parses it (keeping positions, refusing duplicate keys
 * and alias bombs), expands `${vars}`, validates it against the JSON Schema and every rule of
 * the API reference. Every problem comes back at once.
 */
export function checkManifest(text: string, file = '<manifest>'): CheckResult {
  const out = new Collector(file, undefined);
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    out.push({
      severity: 'error',
      path: '',
      line: 1,
      col: 1,
      message: `the manifest is ${(Buffer.byteLength(text) / 1048576).toFixed(1)} MB; the limit is ${MAX_MANIFEST_BYTES / 1048576} MB`,
      fix: 'split the storyboard into several manifests',
    });
    return { diagnostics: out.diagnostics };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const source = new SourceMap(doc, lines);
  out.setSource(source);
  for (const problem of [...doc.errors, ...doc.warnings]) {
    const pos = lines.linePos(problem.pos[0]);
    const duplicate = problem.code === 'DUPLICATE_KEY';
    out.push({
      severity: doc.errors.includes(problem as never) ? 'error' : 'warning',
      path: '',
      line: pos.line,
      col: pos.col,
      message: duplicate
        ? 'duplicate key: a key may appear only once in a mapping'
        : `YAML: ${problem.message.split('\n')[0]}`,
      fix: duplicate ? 'remove or rename one of the two' : 'fix the YAML syntax at this place',
    });
  }
  if (out.errorCount > 0) return { diagnostics: sortDiagnostics(out.diagnostics) };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    out.at(
      'error',
      [],
      `the manifest could not be read: ${(error as Error).message}`,
      `use fewer aliases (at most ${MAX_ALIAS_COUNT}); write the values out`,
    );
    return { diagnostics: out.diagnostics };
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    out.at(
      'error',
      [],
      'a manifest is a YAML mapping with version, name and shots',
      'start from `shotlist init`',
    );
    return { diagnostics: out.diagnostics };
  }

  const raw = data as Record<string, unknown>;
  const vars =
    raw.vars && typeof raw.vars === 'object' && !Array.isArray(raw.vars)
      ? Object.fromEntries(
          Object.entries(raw.vars).filter(
            (entry): entry is [string, string] => typeof entry[1] === 'string',
          ),
        )
      : {};
  const varProblems: VarProblem[] = [];
  const expanded = expandVars(raw, vars, varProblems);
  for (const p of varProblems) out.at('error', p.path, p.message, p.fix);

  for (const p of checkSchema(expanded))
    out.at('error', p.path, p.message, p.fix, { key: p.atKey });
  checkUniqueNames(expanded as Record<string, unknown>, out);
  if (out.errorCount > 0) return { diagnostics: sortDiagnostics(out.diagnostics) };

  const manifest = expanded as ShotlistManifest;
  checkRules(manifest, out);
  const diagnostics = sortDiagnostics(out.diagnostics);
  if (out.errorCount > 0) return { diagnostics };
  return {
    loaded: { file, manifest, source, warnings: diagnostics },
    diagnostics,
  };
}

/** Shot ids and variant names become file names: they must be unique. Runs even on a manifest with schema errors. */
function checkUniqueNames(data: Record<string, unknown>, out: Collector): void {
  for (const [listName, field] of [
    ['shots', 'id'],
    ['variants', 'name'],
  ] as const) {
    const items = data[listName];
    if (Array.isArray(items)) checkUnique(out, items, field, listName);
  }
}

function checkUnique(
  out: Collector,
  items: readonly unknown[],
  field: string,
  listName: string,
): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const value = (item as Record<string, unknown> | null)?.[field];
    if (typeof value !== 'string') return;
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, i);
    else {
      out.at(
        'error',
        [listName, i, field],
        `${field} "${String(value)}" is used twice (also ${listName}[${earlier}])`,
        `give each ${listName === 'shots' ? 'shot' : 'variant'} its own ${field}`,
      );
    }
  });
}

function checkRules(manifest: ShotlistManifest, out: Collector): void {
  const ids = manifest.shots.map((s) => s.id);
  manifest.stitch?.order?.forEach((id, i) => {
    if (!ids.includes(id)) {
      const guess = closest(id, ids);
      out.at(
        'error',
        ['stitch', 'order', i],
        `stitch.order names "${id}", which is not a shot id`,
        guess ? `did you mean "${guess}"?` : `use ids from shots: ${ids.slice(0, 10).join(', ')}`,
      );
    }
  });

  const layers: [
    Origin,
    { metadata?: Record<string, unknown>; trim?: { start?: number; end?: number } },
  ][] = [];
  if (manifest.defaults) layers.push([['defaults'], manifest.defaults]);
  manifest.variants?.forEach((v, i) => layers.push([['variants', i], v]));
  manifest.shots.forEach((s, i) => layers.push([['shots', i], s]));
  for (const [path, layer] of layers) {
    for (const key of Object.keys(layer.metadata ?? {})) {
      if (Object.hasOwn(RESERVED_METADATA, key)) {
        const field = RESERVED_METADATA[key as keyof typeof RESERVED_METADATA];
        out.at(
          'error',
          [...path, 'metadata', key],
          `metadata.${key} is set through the "${field}" field`,
          `write ${field}: ... instead of metadata.${key}`,
          { key: true },
        );
      }
    }
    const trim = layer.trim;
    if (trim?.start !== undefined && trim.end !== undefined && trim.end <= trim.start) {
      out.at(
        'error',
        [...path, 'trim', 'end'],
        `trim.end ${trim.end} is not after trim.start ${trim.start}`,
        'keep end > start',
      );
    }
  }

  const variants: (number | null)[] = manifest.variants
    ? manifest.variants.map((_, i) => i)
    : [null];
  for (let s = 0; s < manifest.shots.length; s++) {
    for (const v of variants) {
      const shot = resolveShot(manifest, s, v);
      const { body, origins } = buildRequest(shot);
      for (const problem of checkRequest(body)) {
        let origin: Origin | undefined;
        for (let n = problem.path.length; n > 0 && !origin; n--) {
          origin = origins.get(problem.path.slice(0, n).join('.'));
        }
        if (!origin && problem.path[0] === 'images') origin = origins.get('metadata.action');
        out.at(problem.severity, origin ?? shot.path, problem.message, problem.fix);
      }
    }
  }
}

/** Validates manifest text, throwing a ManifestError with every problem when it is not usable. */
export function validateManifest(text: string, file = '<manifest>'): LoadedManifest {
  const result = checkManifest(text, file);
  if (!result.loaded) throw new ManifestError(result.diagnostics);
  return result.loaded;
}

function fileProblem(file: string, message: string, fix: string): ManifestError {
  return new ManifestError([{ severity: 'error', file, line: 1, col: 1, path: '', message, fix }]);
}

/**
 * Reads a manifest file's text, refusing one over 5 MB before reading it. Throws a
 * ManifestError (exit 2) saying what is wrong with the file.
 */
export async function readManifestText(file: string): Promise<string> {
  try {
    const { size } = await stat(file);
    if (size > MAX_MANIFEST_BYTES) {
      throw fileProblem(
        file,
        `the manifest is ${(size / 1048576).toFixed(1)} MB; the limit is ${MAX_MANIFEST_BYTES / 1048576} MB`,
        'split the storyboard into several manifests',
      );
    }
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    throw fileProblem(
      file,
      `cannot read the manifest: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      'check the path; `shotlist init` writes a starter manifest',
    );
  }
}

/** Reads and validates a manifest file. Refuses files over 5 MB before reading them. */
export async function loadManifest(file: string): Promise<LoadedManifest> {
  return validateManifest(await readManifestText(file), file);
}
