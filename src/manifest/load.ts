import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ManifestError, type Diagnostic } from '../errors.js';
import { Broken, Collector } from './collector.js';
import { SourceMap, type ManifestPath } from './positions.js';
import { checkLocalAssets, checkUploads, type MissingUploads } from './local-assets.js';
import { checkCaptionLayers } from './caption-rules.js';
import { checkLocalFiles, checkRules, checkUniqueNames } from './rules.js';
import { checkSchema } from './schema.js';
import type { ShotlistManifest } from './types.gen.js';
import { expandVars, resolveVars, type VarProblem } from './vars.js';
import { yamlProblems } from './yaml-errors.js';

/** Manifests larger than this are refused before parsing. */
export const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;
/** Aliases a manifest may use; far more than a storyboard needs, far fewer than a bomb. */
const MAX_ALIAS_COUNT = 100;

/** A manifest that passed validation, with its variables expanded and its source kept. */
export interface LoadedManifest {
  file: string;
  manifest: ShotlistManifest;
  source: SourceMap;
  /** The manifest's folder (absolute), when it was read from a file: local paths are relative to it. */
  dir?: string;
  /** Problems that do not stop a run. */
  warnings: Diagnostic[];
}

export interface CheckResult {
  /** Present when there are no errors. */
  loaded?: LoadedManifest;
  diagnostics: Diagnostic[];
}

/** Options of `checkManifest` and `loadManifest`. */
export interface CheckOptions {
  /**
   * The manifest's folder, against which local files (a soundtrack) are resolved and checked.
   * Without it, local files are not checked. `loadManifest` sets it from the file's path.
   */
  dir?: string;
  /** Let local files outside the manifest's folder tree be read (`--allow-outside`). */
  allowOutside?: boolean;
  /**
   * Local asset files without an `uploads` section: an `error` for a real run or an upload
   * (they cannot be sent); ignored by default (`validate`, `plan`) and under `--simulate`,
   * where the simulator serves them.
   */
  missingUploads?: MissingUploads;
  /**
   * Whether Chinese, Japanese or Korean text of captions and cards can be drawn (media's font
   * search): with the style's font (a file resolved against the manifest's folder, or a family)
   * when named, else with a CJK-capable font of this machine; without it that is left to the stitch.
   */
  cjkFont?: (font: string | undefined, text: string) => boolean;
}

/** Parses the YAML, keeping positions; YAML problems are said, and silence what they garble. */
function parse(text: string, out: Collector): { data: unknown; source: SourceMap } | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const source = new SourceMap(doc, lines);
  out.source = source;
  for (const p of yamlProblems(doc, lines, text)) {
    out.push({ ...p, path: '' });
    if (p.unreliable && p.severity === 'error') out.silence(p.unreliable);
  }
  if (!out.reliable([])) return undefined;
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), source };
  } catch (error) {
    out.at(
      'error',
      [],
      `the manifest could not be read: ${(error as Error).message}`,
      `use fewer aliases (at most ${MAX_ALIAS_COUNT}); write the values out`,
    );
    return undefined;
  }
}

/**
 * Checks manifest text without throwing: parses it (keeping positions, refusing duplicate keys
 * and alias bombs), expands `${vars}`, validates it against the JSON Schema and every rule of
 * the API reference and the stitcher, and (given `options.dir`) the local files it names.
 * Every problem comes back at once: a shot the schema rejects is left out of the rule checks,
 * the others are still checked.
 */
export function checkManifest(
  text: string,
  file = '<manifest>',
  options: CheckOptions = {},
): CheckResult {
  const out = new Collector(file);
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    out.push({
      severity: 'error',
      path: '',
      line: 1,
      col: 1,
      message: `the manifest is ${(Buffer.byteLength(text) / 1048576).toFixed(1)} MB; the limit is ${MAX_MANIFEST_BYTES / 1048576} MB`,
      fix: 'split the storyboard into several manifests',
    });
    return { diagnostics: out.sorted() };
  }
  const parsed = parse(text, out);
  if (!parsed) return { diagnostics: out.sorted() };
  const { data, source } = parsed;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    out.at(
      'error',
      [],
      'a manifest is a YAML mapping with version, name and shots',
      'start from `shotlist init`',
    );
    return { diagnostics: out.sorted() };
  }

  const raw = data as Record<string, unknown>;
  const varProblems: VarProblem[] = [];
  const expanded = expandVars(raw, resolveVars(raw.vars, varProblems), varProblems) as Record<
    string,
    unknown
  >;
  for (const p of varProblems) {
    const where = p.loop?.map(
      (name) => `\${${name}} at line ${source.locate(['vars', name]).line}`,
    );
    out.at('error', p.path, where ? `${p.message} (${where.join(', ')})` : p.message, p.fix);
  }

  const broken = new Broken();
  for (const p of checkSchema(expanded)) {
    out.at('error', p.path, p.message, p.fix, { key: p.atKey });
    out.settle(p.path);
    // A wrong value in the right shape leaves the rest of its shot checkable.
    if (!p.valueOnly) broken.add(p.path);
  }
  checkUniqueNames(expanded, out);
  const manifest = expanded as unknown as ShotlistManifest;
  const usable = (path: ManifestPath) => out.reliable(path) && !broken.has(path);
  if (Array.isArray(manifest.shots)) checkRules(manifest, out, usable);
  if (usable(['stitch']) && Array.isArray(manifest.shots))
    checkCaptionLayers(manifest, out, options.cjkFont, options.dir);
  if (options.dir !== undefined && usable(['stitch'])) {
    checkLocalFiles(manifest, out, options.dir, options.allowOutside);
  }
  if (usable(['uploads'])) checkUploads(manifest, out);
  if (options.dir !== undefined && Array.isArray(manifest.shots)) {
    checkLocalAssets(manifest, out, options.dir, options);
  }
  const diagnostics = out.sorted();
  if (out.errorCount > 0) return { diagnostics };
  const dir = options.dir !== undefined ? { dir: options.dir } : {};
  return { loaded: { file, manifest, source, ...dir, warnings: diagnostics }, diagnostics };
}

/** Validates manifest text, throwing a ManifestError with every problem when it is not usable. */
export function validateManifest(
  text: string,
  file = '<manifest>',
  options: CheckOptions = {},
): LoadedManifest {
  const result = checkManifest(text, file, options);
  if (!result.loaded) throw new ManifestError(result.diagnostics);
  return result.loaded;
}

function fileProblem(file: string, message: string, fix: string): ManifestError {
  return new ManifestError([{ severity: 'error', file, line: 1, col: 1, path: '', message, fix }]);
}

/**
 * Reads a manifest file's text, refusing one over 5 MB before reading it. Throws a
 * ManifestError (exit 2) saying what is wrong with the file, named `label` (default `file`).
 */
export async function readManifestText(file: string, label = file): Promise<string> {
  try {
    const { size } = await stat(file);
    if (size > MAX_MANIFEST_BYTES) {
      throw fileProblem(
        label,
        `the manifest is ${(size / 1048576).toFixed(1)} MB; the limit is ${MAX_MANIFEST_BYTES / 1048576} MB`,
        'split the storyboard into several manifests',
      );
    }
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    throw fileProblem(
      label,
      `cannot read the manifest: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      'check the path; `shotlist init` writes a starter manifest',
    );
  }
}

export interface LoadOptions {
  /** Where a relative `file` is found (default the process's working directory). */
  cwd?: string;
  /** Let local files outside the manifest's folder tree be read (`--allow-outside`). */
  allowOutside?: boolean;
  /** See {@link CheckOptions.missingUploads}. */
  missingUploads?: MissingUploads;
  /** See {@link CheckOptions.cjkFont}. */
  cjkFont?: (font: string | undefined, text: string) => boolean;
}

/**
 * Reads and validates a manifest file, and the local files it names. Refuses files over 5 MB
 * before reading them. Problems name the file as given.
 */
export async function loadManifest(
  file: string,
  options: LoadOptions = {},
): Promise<LoadedManifest> {
  const absolute = path.resolve(options.cwd ?? process.cwd(), file);
  return validateManifest(await readManifestText(absolute, file), file, {
    dir: path.dirname(absolute),
    ...(options.allowOutside ? { allowOutside: true } : {}),
    ...(options.missingUploads ? { missingUploads: options.missingUploads } : {}),
    ...(options.cjkFont ? { cjkFont: options.cjkFont } : {}),
  });
}
