/**
 * Query strings the way Rack reads them and Rails writes them, because GitLab clients depend on both:
 * `scope=a` is a string, `scope[]=a&scope[]=b` an array, `scope[0]=a` a hash, a repeated plain key keeps
 * its last value; and Link headers re-emit parameters with Rails' `to_query` (sorted, `scope%5B%5D=`).
 */

export type ParamValue = string | string[] | Record<string, string>;
export type Params = Record<string, ParamValue>;

/**
 * A key used with two shapes (`scope=a&scope[]=b`) makes Rack raise; here the key maps to this marker,
 * which no coercion accepts, so the route answers 400 like GitLab does for an unusable parameter.
 */
export const CONFLICT: Record<string, string> = Object.freeze({ '\u0000conflict': '' });

export function parseQuery(search: string): Params {
  const params: Params = Object.create(null) as Params;
  if (search === '') return params;
  for (const [rawKey, value] of new URLSearchParams(search)) {
    const open = rawKey.indexOf('[');
    if (open <= 0 || !rawKey.endsWith(']')) {
      const previous = params[rawKey];
      params[rawKey] = previous === undefined || typeof previous === 'string' ? value : CONFLICT;
      continue;
    }
    const key = rawKey.slice(0, open);
    const sub = rawKey.slice(open + 1, -1);
    const previous = params[key];
    if (sub === '') {
      if (previous === undefined) params[key] = [value];
      else if (Array.isArray(previous)) previous.push(value);
      else params[key] = CONFLICT;
    } else if (previous === undefined) {
      params[key] = { [sub]: value };
    } else if (typeof previous === 'object' && !Array.isArray(previous) && previous !== CONFLICT) {
      previous[sub] = value;
    } else {
      params[key] = CONFLICT;
    }
  }
  return params;
}

/** Ruby's CGI.escape: unreserved characters stay, a space becomes `+`. */
export function cgiEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export type QueryValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>>;

/** Rails' `Hash#to_query`: every pair escaped, arrays as `key[]`, hashes as `key[sub]`, pairs sorted. */
export function toQuery(params: Readonly<Record<string, QueryValue>>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) {
      const name = cgiEscape(`${key}[]`);
      pairs.push(value.length === 0 ? `${name}=` : value.map((v: string) => `${name}=${cgiEscape(v)}`).join('&'));
    } else if (typeof value === 'object') {
      const sub = Object.entries(value as Record<string, string>).map(([k, v]) => `${cgiEscape(`${key}[${k}]`)}=${cgiEscape(v)}`);
      pairs.push(...sub.sort());
    } else {
      pairs.push(`${cgiEscape(key)}=${cgiEscape(String(value))}`);
    }
  }
  return pairs.sort().join('&');
}
