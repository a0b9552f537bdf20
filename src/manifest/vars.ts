import type { ManifestPath } from './positions.js';

export interface VarProblem {
  path: ManifestPath;
  message: string;
  fix: string;
  /** The other variables of a loop, in its order: the message gives their lines. */
  loop?: string[];
}

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;

/** Variables after expansion, and the names whose value could not be expanded (already reported). */
export interface ResolvedVars {
  values: Readonly<Record<string, string>>;
  /** Names that exist but have no usable value: not a string, or part of a cycle. */
  broken: ReadonlySet<string>;
}

function unknownProblem(name: string, known: string[], path: ManifestPath): VarProblem {
  return {
    path: [...path],
    message: `unknown variable \${${name}}`,
    fix: known.length
      ? `define it under vars, or use one of ${known.map((k) => `\${${k}}`).join(', ')}`
      : `define it under vars (vars: { ${name || 'name'}: ... }), or write $\${ for a literal \${`,
  };
}

/** Replaces each `${name}` in one string; `lookup` says what a name stands for. */
function substitute(
  text: string,
  lookup: (name: string) => string | undefined,
  onUnknown: (name: string) => void,
): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (whole, escape: string, name: string) => {
    if (escape) return whole.slice(1);
    const value = lookup(name);
    if (value !== undefined) return value;
    onUnknown(name);
    return whole;
  });
}

/**
 * Expands variables that use other variables (`product: "${brand} earbuds"`). A loop is
 * reported once, at the variable where it closes; an unknown name at the variable using it.
 * A variable using a broken one (not a string, or in a loop) is broken too, without a second
 * problem: the first one already says what to fix.
 */
export function resolveVars(raw: unknown, problems: VarProblem[]): ResolvedVars {
  const source =
    raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const known = Object.keys(source);
  const values: Record<string, string> = {};
  const broken = new Set(known.filter((k) => typeof source[k] !== 'string'));
  const stack: string[] = [];

  const visit = (name: string): string | undefined => {
    if (Object.hasOwn(values, name)) return values[name];
    if (broken.has(name) || !Object.hasOwn(source, name)) return undefined;
    if (stack.includes(name)) {
      const loop = stack.slice(stack.indexOf(name));
      const closing = loop[loop.length - 1]!;
      const path = [closing, ...loop.slice(0, -1), closing].map((n) => `\${${n}}`);
      problems.push({
        path: ['vars', closing],
        message:
          loop.length === 1
            ? `variable \${${closing}} refers to itself`
            : `variable \${${closing}} is part of a loop: ${path.join(' -> ')}`,
        fix: 'write the text out in one of these variables instead of referring to another',
        ...(loop.length > 1 ? { loop: loop.slice(0, -1) } : {}),
      });
      for (const n of loop) broken.add(n);
      return undefined;
    }
    stack.push(name);
    const value = substitute(source[name] as string, visit, (ref) => {
      if (Object.hasOwn(source, ref)) broken.add(name);
      else problems.push(unknownProblem(ref, known, ['vars', name]));
    });
    stack.pop();
    if (broken.has(name)) return undefined;
    values[name] = value;
    return value;
  };
  for (const name of known) visit(name);
  return { values, broken };
}

/**
 * Replaces `${name}` in every string value (not in keys, not inside `vars`, which
 * `resolveVars` expands). `$${` stays a literal `${`. Returns a new value; unknown names
 * become problems at the string's path, names of broken variables are left as they are
 * (their problem is reported at the variable).
 */
export function expandVars(
  value: unknown,
  resolved: ResolvedVars,
  problems: VarProblem[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    return substitute(
      value,
      (name) => (Object.hasOwn(resolved.values, name) ? resolved.values[name] : undefined),
      (name) => {
        if (!resolved.broken.has(name))
          problems.push(unknownProblem(name, Object.keys(resolved.values), path));
      },
    );
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => expandVars(item, resolved, problems, [...path, i]));
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        path.length === 0 && key === 'vars'
          ? item
          : expandVars(item, resolved, problems, [...path, key]);
    }
    return out;
  }
  return value;
}
