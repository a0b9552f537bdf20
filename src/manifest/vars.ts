import type { ManifestPath } from './positions.js';

export interface VarProblem {
  path: ManifestPath;
  message: string;
  fix: string;
}

const REFERENCE = /\$(\$?)\{([^}]*)\}/g;

/**
 * Replaces `${name}` in every string value (not in keys, not inside `vars`). `$${` stays a
 * literal `${`. Returns a new value; unknown names become problems at the string's path.
 */
export function expandVars(
  value: unknown,
  vars: Readonly<Record<string, string>>,
  problems: VarProblem[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(REFERENCE, (whole, escape: string, name: string) => {
      if (escape) return whole.slice(1);
      if (Object.hasOwn(vars, name)) return vars[name]!;
      const known = Object.keys(vars);
      problems.push({
        path: [...path],
        message: `unknown variable \${${name}}`,
        fix: known.length
          ? `define it under vars, or use one of ${known.map((k) => `\${${k}}`).join(', ')}`
          : `define it under vars (vars: { ${name || 'name'}: ... }), or write $\${ for a literal \${`,
      });
      return whole;
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => expandVars(item, vars, problems, [...path, i]));
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        path.length === 0 && key === 'vars'
          ? item
          : expandVars(item, vars, problems, [...path, key]);
    }
    return out;
  }
  return value;
}
