import type { Diagnostic, Severity } from '../errors.js';
import { toPointer, type ManifestPath, type SourceMap } from './positions.js';

/**
 * Gathers a manifest's problems, each placed at its line and column, once each. Paths a YAML
 * error garbled are silenced: what later checks would say there is about the parser's guess.
 */
export class Collector {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private readonly quiet: ManifestPath[] = [];
  /** Values already reported wrong: later checks add nothing there (one problem per value). */
  private readonly settled = new Set<string>();

  constructor(readonly file: string) {}

  source: SourceMap | undefined;

  /** Says nothing more under `path`: a YAML error there means the data is the parser's guess. */
  silence(path: ManifestPath): void {
    this.quiet.push(path);
  }

  /** Reports nothing more at `path`: its value was already said to be wrong. */
  settle(path: ManifestPath): void {
    this.settled.add(toPointer(path));
  }

  /** Whether checks may look at `path`: nothing already said the data there is unreliable. */
  reliable(path: ManifestPath): boolean {
    return !this.quiet.some((q) => q.every((segment, i) => path[i] === segment));
  }

  at(
    severity: Severity,
    path: ManifestPath,
    message: string,
    fix?: string,
    options: { key?: boolean; index?: number } = {},
  ): void {
    if (!this.reliable(path) || this.settled.has(toPointer(path))) return;
    const pos = (options.index === undefined
      ? this.source?.locate(path, options)
      : this.source?.locateInString(path, options.index)) ?? { line: 1, col: 1 };
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

  /** Every problem, in the order of the manifest's text. */
  sorted(): Diagnostic[] {
    return this.diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
  }
}

/** The unit a problem makes unreliable: a shot, a variant, or a top-level section. */
export function unitOf(path: ManifestPath): ManifestPath {
  if ((path[0] === 'shots' || path[0] === 'variants') && typeof path[1] === 'number') {
    return path.slice(0, 2);
  }
  return path.slice(0, 1);
}

/**
 * The units of the manifest the schema rejected. Rule checks skip them: their values are not
 * what the rules expect. A problem at the top level (a missing key) breaks no unit.
 */
export class Broken {
  private readonly units: ManifestPath[] = [];

  add(path: ManifestPath): void {
    if (path.length > 0) this.units.push(unitOf(path));
  }

  /** Whether `path` lies in (or is) a broken unit. */
  has(path: ManifestPath): boolean {
    return this.units.some((unit) => unit.every((segment, i) => path[i] === segment));
  }
}
