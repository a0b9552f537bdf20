import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export type ManifestPath = readonly (string | number)[];

export interface Position {
  line: number;
  col: number;
}

/** Finds where a value (or, with `key`, its key) is written in the YAML source. */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The position of the value at `path`, or of its deepest written ancestor. */
  locate(path: ManifestPath, options: { key?: boolean } = {}): Position {
    let node: unknown = this.doc.contents;
    let offset = this.offsetOf(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
        );
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && options.key) {
          offset = this.offsetOf(pair.key) ?? offset;
          break;
        }
        node = pair.value;
        offset = this.offsetOf(node) ?? this.offsetOf(pair.key) ?? offset;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (item === undefined) break;
        node = item;
        offset = this.offsetOf(node) ?? offset;
      } else {
        break;
      }
    }
    return this.position(offset);
  }

  /**
   * The position of character `index` of the string at `path`, when the string is written on
   * one line as it reads (no escapes, no folding); else the position of the string.
   */
  locateInString(path: ManifestPath, index: number): Position {
    const start = this.locate(path);
    const node = this.nodeAt(path);
    if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return start;
    const quote = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
    const written = node.range[1] - node.range[0];
    const plain = node.type === 'PLAIN' || quote === 1;
    if (!plain || node.value.includes('\n') || written !== node.value.length + 2 * quote) {
      return start;
    }
    return this.position(node.range[0] + quote + index);
  }

  private nodeAt(path: ManifestPath): unknown {
    let node: unknown = this.doc.contents;
    for (const segment of path) {
      if (isMap(node)) node = node.get(segment, true);
      else if (isSeq(node) && typeof segment === 'number') node = node.items[segment];
      else return undefined;
    }
    return node;
  }

  position(offset: number): Position {
    const pos = this.lines.linePos(offset);
    return { line: pos.line, col: pos.col };
  }

  private offsetOf(node: unknown): number | undefined {
    if (node && typeof node === 'object' && 'range' in node) {
      const range = (node as Node).range;
      if (range) return range[0];
    }
    return undefined;
  }
}

/** `/shots/2/duration` from `['shots', 2, 'duration']`. */
export function toPointer(path: ManifestPath): string {
  return path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}
