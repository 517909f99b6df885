// A small JSON Schema (2020-12) checker for the keywords inventory/schema.json uses; the test
// dependencies have no validator. A keyword it does not know is an error, never silently passed.
type Schema = Record<string, unknown> | boolean;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  'type', 'properties', 'required', 'additionalProperties', 'propertyNames', 'enum', 'const', 'pattern',
  'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'items', 'minItems', 'maxItems',
  'oneOf', 'anyOf', 'allOf',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeOf(value) === type;
  }
}

/** Every place `value` breaks `schema`, as "path: what" lines; empty when it conforms. */
export function checkJsonSchema(schema: Schema, value: unknown, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: not allowed`];
  const unknown = Object.keys(schema).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new Error(`json-schema-check does not know the keyword(s) ${unknown.join(', ')} (at ${path}): extend it`);
  const errors: string[] = [];
  const s = schema as Record<string, any>;
  if (s.type !== undefined) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => hasType(value, t))) return [`${path}: must be ${types.join(' or ')}, is ${typeOf(value)}`];
  }
  if (s.enum !== undefined && !s.enum.some((e: unknown) => e === value)) errors.push(`${path}: must be one of ${s.enum.join(', ')}`);
  if (s.const !== undefined && s.const !== value) errors.push(`${path}: must be ${JSON.stringify(s.const)}`);
  if (typeof value === 'string') {
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${path}: does not match ${s.pattern}`);
    if (s.minLength !== undefined && [...value].length < s.minLength) errors.push(`${path}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && [...value].length > s.maxLength) errors.push(`${path}: longer than ${s.maxLength}`);
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) errors.push(`${path}: above ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) errors.push(`${path}: not above ${s.exclusiveMinimum}`);
    if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) errors.push(`${path}: not below ${s.exclusiveMaximum}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) errors.push(`${path}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) errors.push(`${path}: more than ${s.maxItems} items`);
    if (s.items !== undefined) value.forEach((item, i) => errors.push(...checkJsonSchema(s.items, item, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in object)) errors.push(`${path}.${key}: is required`);
    for (const [key, child] of Object.entries(object)) {
      if (s.propertyNames !== undefined) errors.push(...checkJsonSchema(s.propertyNames, key, `${path}.${key} (name)`));
      if (s.properties?.[key] !== undefined) errors.push(...checkJsonSchema(s.properties[key], child, `${path}.${key}`));
      else if (s.additionalProperties !== undefined) errors.push(...checkJsonSchema(s.additionalProperties, child, `${path}.${key}`));
    }
  }
  for (const sub of s.allOf ?? []) errors.push(...checkJsonSchema(sub, value, path));
  if (s.anyOf !== undefined && !s.anyOf.some((sub: Schema) => checkJsonSchema(sub, value, path).length === 0)) errors.push(`${path}: matches none of anyOf`);
  if (s.oneOf !== undefined) {
    const matching = s.oneOf.filter((sub: Schema) => checkJsonSchema(sub, value, path).length === 0).length;
    if (matching !== 1) errors.push(`${path}: matches ${matching} of oneOf, not exactly 1`);
  }
  return errors;
}
