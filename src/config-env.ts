/**
 * Everything the config file accepts, also as environment variables (`BUILDGATE_` + the path in
 * SNAKE_CASE: `trace.pollIntervalMs` is `BUILDGATE_TRACE_POLL_INTERVAL_MS`; a list is comma-separated), and a `--help` listing
 * of every option, both read off the one validated schema so they can never drift from it.
 */

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  default?: unknown;
  description?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
}

export interface OptionDoc {
  /** `trace.pollIntervalMs`, or `upstreams[].baseUrl` for a field of every upstream. */
  path: string;
  type: string;
  default?: unknown;
  description?: string;
  /** The environment variable that sets it; none inside lists. */
  env?: string;
}

const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join('|');
  if (schema.anyOf) return schema.anyOf.map(typeOf).join('|');
  return Array.isArray(schema.type) ? schema.type.join('|') : (schema.type ?? 'any');
}

export function listOptions(schema: JsonSchema, prefix = '', inList = false): OptionDoc[] {
  const options: OptionDoc[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (property.type === 'object' && property.properties) {
      options.push(...listOptions(property, path, inList));
    } else if (property.type === 'array' && property.items?.properties) {
      options.push(...listOptions(property.items, `${path}[]`, true));
    } else {
      options.push({
        path,
        type: typeOf(property),
        default: property.default,
        description: property.description,
        env: inList ? undefined : `BUILDGATE_${path.split('.').map(snake).join('_')}`,
      });
    }
  }
  return options;
}

/** The options set by environment variables, as a nested object the schema can validate. */
export function fromEnvironment(options: readonly OptionDoc[], env: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const option of options) {
    const value = option.env ? env[option.env] : undefined;
    if (value === undefined) continue;
    const parsed = option.type === 'number' || option.type === 'integer' ? (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value)
      : option.type === 'boolean' ? (value === 'true' ? true : value === 'false' ? false : value)
      : option.type === 'array' ? value.split(',').map((item) => item.trim()).filter(Boolean)
      : value;
    const keys = option.path.split('.');
    let target = raw;
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys.at(-1)!] = parsed;
  }
  return raw;
}

/** Deep merge of plain objects; arrays and scalars of `over` replace those of `base`. */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

export function formatOptions(options: readonly OptionDoc[]): string {
  return options
    .map((option) => {
      const fallback = option.default === undefined ? '' : ` (default ${JSON.stringify(option.default)})`;
      const env = option.env ? `  [${option.env}]` : '';
      const about = option.description ? `\n      ${option.description}` : '';
      return `  ${option.path}: ${option.type}${fallback}${env}${about}`;
    })
    .join('\n');
}
