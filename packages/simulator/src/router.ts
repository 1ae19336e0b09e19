/**
 * A tiny router: templates like `/projects/:id/jobs/:job_id(int)` matched segment by segment against
 * the raw path, each segment percent-decoded on its own — so `foo%2Fbar` is one project id while an
 * unencoded `foo/bar` has one segment too many and matches nothing, as in GitLab. A `(int)` parameter
 * only matches digits; anything else falls through to the 404 for unknown routes.
 */

export interface Route<H> {
  readonly method: string;
  /** The template as shown in stats, e.g. `GET /api/v4/projects/:id/jobs/:job_id`. */
  readonly key: string;
  readonly handler: H;
}

export interface Match<H> {
  readonly route: Route<H>;
  readonly params: Record<string, string>;
}

type Segment = { readonly literal: string } | { readonly param: string; readonly int: boolean };

interface Compiled<H> {
  readonly route: Route<H>;
  readonly segments: readonly Segment[];
}

export class Router<H> {
  /** method → segment count → candidates; keeps matching to a handful of comparisons. */
  readonly #table = new Map<string, Map<number, Compiled<H>[]>>();

  add(method: string, template: string, handler: H): this {
    const segments = template
      .split('/')
      .slice(1)
      .map((part): Segment => {
        if (!part.startsWith(':')) return { literal: part };
        const int = part.endsWith('(int)');
        return { param: int ? part.slice(1, -5) : part.slice(1), int };
      });
    const key = `${method} ${template.replace(/\(int\)/g, '')}`;
    let bySize = this.#table.get(method);
    if (!bySize) this.#table.set(method, (bySize = new Map()));
    const list = bySize.get(segments.length) ?? [];
    list.push({ route: { method, key, handler }, segments });
    bySize.set(segments.length, list);
    return this;
  }

  /** Every route's key (as stats names it), grouped by method. */
  keys(): string[] {
    const keys: string[] = [];
    for (const bySize of this.#table.values()) for (const list of bySize.values()) for (const { route } of list) keys.push(route.key);
    return keys;
  }

  match(method: string, path: string): Match<H> | undefined {
    const parts = path.split('/');
    const candidates = this.#table.get(method)?.get(parts.length - 1);
    if (!candidates) return undefined;
    outer: for (const { route, segments } of candidates) {
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i] as Segment;
        const raw = parts[i + 1] as string;
        if ('literal' in segment) {
          if (raw !== segment.literal) continue outer;
          continue;
        }
        if (raw === '') continue outer;
        if (segment.int) {
          if (!isDigits(raw)) continue outer;
          params[segment.param] = raw;
          continue;
        }
        const value = decode(raw);
        if (value === undefined) continue outer;
        params[segment.param] = value;
      }
      return { route, params };
    }
    return undefined;
  }
}

function isDigits(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return value.length > 0 && value.length < 16;
}

function decode(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
