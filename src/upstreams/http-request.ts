/**
 * What an upstream request and its answer look like to the adapters, and the pure helpers that build
 * one (path encoding, the query string) or read one (a repeated header, an upstream's error message).
 * `http.ts` sends them; nothing here touches the network.
 */
export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface UpstreamRequest {
  /** Path below the base URL, already encoded: build it with `encodePath`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Extra request headers (e.g. `range`). */
  headers?: Record<string, string>;
  /** Statuses ≥ 400 that are answers, not errors (e.g. 416 for a range past the end). */
  acceptStatuses?: readonly number[];
}

/** A response whose body is read piece by piece; consume or `dump()` it. */
export interface UpstreamStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Buffer>;
  /** Discards the rest of the body, freeing the connection. */
  dump(): Promise<void>;
}

export interface UpstreamResponse<T> {
  data: T;
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A tagged template that URL-encodes every interpolated value as one path segment. */
export function encodePath(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += encodeURIComponent(String(value)) + (strings[i + 1] ?? '');
  });
  return out;
}

export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(`${key}[]`, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The first value of a response header that may repeat. */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** GitLab (and bk-ci) answer `{"message": "..."}` or `{"error": "..."}`; anything else is not shown to clients. */
export function upstreamMessage(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') {
      const { message, error } = parsed as { message?: unknown; error?: unknown };
      const value = message ?? error;
      if (typeof value === 'string') return value.slice(0, 500);
      if (value && typeof value === 'object') return JSON.stringify(value).slice(0, 500);
    }
  } catch {
    // not JSON: fall through
  }
  return undefined;
}
