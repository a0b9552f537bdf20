import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ShotlistManifest } from './types.gen.js';
import type { ManifestPath } from './positions.js';
import { closest } from './suggest.js';
import { checkMediaUrl } from '../api/contract.js';

type SchemaNode = Record<string, unknown>;

/** The manifest's JSON Schema, as shipped in `schema/manifest.schema.json`. */
export const manifestSchema = JSON.parse(
  readFileSync(new URL('../../schema/manifest.schema.json', import.meta.url), 'utf8'),
) as SchemaNode;

/** The most takes a shot may have (the schema's bound on `takes`); a picks file's re-rolls count too. */
export const MAX_TAKES = (
  ((manifestSchema.$defs as SchemaNode).shotSettings as { properties: { takes: SchemaNode } })
    .properties.takes as { maximum: number }
).maximum;

type Ajv2020Module = typeof import('ajv/dist/2020.js');

let compiled: ValidateFunction<ShotlistManifest> | undefined;

function validator(): ValidateFunction<ShotlistManifest> {
  if (!compiled) {
    try {
      // Built by scripts/gen-validator.mjs next to the compiled code: no compile at start-up.
      compiled = createRequire(import.meta.url)(
        './validate.gen.cjs',
      ) as ValidateFunction<ShotlistManifest>;
    } catch {
      // Ajv itself (80-odd files) is loaded only here, where no built validator is found.
      const Ajv2020 = createRequire(import.meta.url)('ajv/dist/2020.js') as Ajv2020Module;
      const ajv = new Ajv2020.default({ strict: true, allErrors: true, verbose: true });
      compiled = ajv.compile<ShotlistManifest>(manifestSchema);
    }
  }
  return compiled;
}

export interface SchemaProblem {
  path: ManifestPath;
  /** Point at the key rather than the value (unknown keys). */
  atKey: boolean;
  message: string;
  fix?: string;
  /**
   * The value has the right shape but a wrong value (out of range, not in the list): checks
   * beyond the schema can still read the rest of its shot.
   */
  valueOnly?: boolean;
}

const VALUE_KEYWORDS = new Set([
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'pattern',
  'minLength',
  'maxLength',
]);

function resolveRef(ref: string): SchemaNode | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = manifestSchema;
  for (const part of ref.slice(2).split('/')) {
    node = (node as SchemaNode | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node as SchemaNode | undefined;
}

/** Every property name a schema node allows, following `$ref` and `allOf`. */
function knownKeys(schema: SchemaNode | undefined, into = new Set<string>()): Set<string> {
  if (!schema) return into;
  const properties = schema.properties as SchemaNode | undefined;
  if (properties) for (const key of Object.keys(properties)) into.add(key);
  if (typeof schema.$ref === 'string') knownKeys(resolveRef(schema.$ref), into);
  for (const sub of (schema.allOf as SchemaNode[] | undefined) ?? []) knownKeys(sub, into);
  return into;
}

function describe(schema: unknown): string | undefined {
  if (!schema || typeof schema !== 'object') return undefined;
  const node = schema as SchemaNode;
  if (typeof node.description === 'string') return node.description;
  if (typeof node.$ref === 'string') return describe(resolveRef(node.$ref));
  return undefined;
}

function pathOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** `images[1]` for `['shots', 0, 'assets', 'images', 1]`: the name a reader knows the value by. */
function label(path: ManifestPath): string {
  let i = path.length - 1;
  while (i >= 0 && typeof path[i] === 'number') i--;
  if (i < 0) return path.length ? `item ${path.map(String).join('.')}` : 'the manifest';
  return `${String(path[i])}${path
    .slice(i + 1)
    .map((n) => `[${String(n)}]`)
    .join('')}`;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function translate(error: ErrorObject): SchemaProblem | undefined {
  const path = pathOf(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const what = label(path);
  switch (error.keyword) {
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(params.additionalProperty ?? params.unevaluatedProperty);
      const known = [...knownKeys(error.parentSchema as SchemaNode)].filter((k) => k !== '$schema');
      const guess = closest(key, known);
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key "${key}"${path.length ? ` in ${what}` : ''}`,
        fix: guess ? `did you mean "${guess}"?` : `remove it; known keys here: ${known.join(', ')}`,
      };
    }
    case 'required': {
      const missing = String(params.missingProperty);
      const property = (error.parentSchema as SchemaNode | undefined)?.properties as
        SchemaNode | undefined;
      return {
        path,
        atKey: false,
        message: `${path.length ? what : 'the manifest'} is missing "${missing}"`,
        fix: describe(property?.[missing]) ?? `add ${missing}`,
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      // Typos of words get a guess; "2:1" is no typo of "1:1".
      const guess =
        typeof error.data === 'string' && /[a-z].*[a-z]/i.test(error.data)
          ? closest(error.data, allowed)
          : undefined;
      return {
        path,
        atKey: false,
        message: `${what} ${show(error.data)} is not one of ${allowed.map((v) => `"${v}"`).join(', ')}`,
        fix: guess ? `did you mean "${guess}"?` : `write one of the values listed`,
      };
    }
    case 'const':
      return {
        path,
        atKey: false,
        message: `${what} must be ${show(params.allowedValue)}, not ${show(error.data)}`,
        fix: `write ${show(params.allowedValue)}`,
      };
    case 'type':
      return {
        path,
        atKey: false,
        message: `${what} must be ${String(params.type) === 'integer' ? 'a whole number' : `of type ${String(params.type)}`}, not ${show(error.data)}`,
        fix: describe(error.parentSchema),
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        path,
        atKey: false,
        message: `${what} ${show(error.data)} ${error.message ?? 'is out of range'}`,
        fix: describe(error.parentSchema),
      };
    case 'minItems':
      return {
        path,
        atKey: false,
        message: `${what} must not be empty`,
        fix: describe(error.parentSchema),
      };
    case 'pattern': {
      const reason =
        typeof error.data === 'string' && path.includes('assets')
          ? checkMediaUrl(error.data)
          : undefined;
      return {
        path,
        atKey: false,
        message: `${what} ${show(error.data)} is not valid here`,
        fix: reason ?? describe(error.parentSchema),
      };
    }
    case 'minLength':
    case 'maxLength':
    case 'propertyNames':
      return {
        path,
        atKey: false,
        message: `${what} ${show(error.data)} is not valid here`,
        fix: describe(error.parentSchema),
      };
    case 'if':
    case 'allOf':
      return undefined;
    default:
      return {
        path,
        atKey: false,
        message: `${what} ${error.message ?? 'is invalid'}`,
        fix: describe(error.parentSchema),
      };
  }
}

/**
 * The errors worth showing of a value that may take one of several shapes (`anyOf`, e.g. a
 * price or prices by size): when one shape fits the value's type, only its errors; otherwise
 * only the first shape's type error. The `anyOf` summary itself says nothing more.
 */
function withoutShapeNoise(errors: readonly ErrorObject[]): ErrorObject[] {
  const branch = (e: ErrorObject) => /^(.*\/anyOf)\/(\d+)\//.exec(e.schemaPath);
  const isShapeType = (e: ErrorObject, m: RegExpExecArray) =>
    e.keyword === 'type' && e.schemaPath === `${m[1]}/${m[2]}/type`;
  const inside = (e: ErrorObject, at: string) =>
    e.instancePath === at || e.instancePath.startsWith(`${at}/`);
  const typed = new Set<string>();
  return errors.filter((e) => {
    if (e.keyword === 'anyOf') return false;
    const m = branch(e);
    if (!m || !isShapeType(e, m)) return true;
    const fits = errors.some((o) => {
      const om = branch(o);
      return (
        om !== null &&
        om[1] === m[1] &&
        om[2] !== m[2] &&
        !isShapeType(o, om) &&
        inside(o, e.instancePath)
      );
    });
    const id = `${m[1]}|${e.instancePath}`;
    if (fits || typed.has(id)) return false;
    typed.add(id);
    return true;
  });
}

/** Validates plain data against the schema; every problem, translated for people. */
export function checkSchema(data: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(data)) return [];
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of withoutShapeNoise(validate.errors ?? [])) {
    // propertyNames reports once for the name and once for the object; keep the named one.
    if (error.keyword === 'propertyNames' && error.propertyName === undefined) continue;
    const problem =
      error.propertyName !== undefined
        ? {
            path: [...pathOf(error.instancePath), error.propertyName],
            atKey: true,
            message: `"${error.propertyName}" is not a valid name here`,
            fix: describe(error.parentSchema) ?? error.message,
          }
        : translate(error);
    if (!problem) continue;
    if (VALUE_KEYWORDS.has(error.keyword) && error.propertyName === undefined) {
      problem.valueOnly = true;
    }
    const id = `${problem.path.join('/')}|${problem.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems;
}
