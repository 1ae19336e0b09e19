/**
 * Queries and mutations run through graphql-jit (`@envelop/graphql-jit`): each document is compiled
 * once into a function, which then runs without graphql-js's per-field bookkeeping. Subscriptions and
 * operations with `@defer`/`@stream` keep yoga's executor: graphql-jit knows neither incremental
 * delivery nor the per-event context the subscription plugin gives each event.
 *
 * graphql-jit (with fast-json-stringify and ajv behind it) costs ~0.15 s of CPU to load, a tenth of the
 * start-up: it is resolved when the plugin is made (a missing package still fails the start), loaded
 * once the gateway has had time to answer GraphiQL's page and assets, and awaited by any operation that
 * comes before that.
 */
import { createRequire } from 'node:module';
import { BREAK, type DocumentNode, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * After the plugin is made (the gateway is listening within milliseconds): long enough for a browser's
 * GraphiQL page and its assets to be sent first, short enough that its first query rarely waits.
 */
const PRELOAD_AFTER_MS = 500;

const INCREMENTAL = new Set(['defer', 'stream']);

/** Whether the document uses `@defer` or `@stream` anywhere (fragments included). */
function isIncremental(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (!INCREMENTAL.has(node.name.value)) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

export function useJit(): Plugin {
  createRequire(import.meta.url).resolve('@envelop/graphql-jit');
  // Yoga hands the same DocumentNode for the same text: one walk per document.
  const incremental = new WeakMap<DocumentNode, boolean>();
  let jit: Plugin | undefined;
  let loading: Promise<Plugin> | undefined;
  const load = () =>
    (loading ??= import('@envelop/graphql-jit').then(({ useGraphQlJit }) => {
      jit = useGraphQlJit(
        {},
        {
          enableIf: ({ document }) => {
            let found = incremental.get(document);
            if (found === undefined) incremental.set(document, (found = isIncremental(document)));
            return !found;
          },
        },
      ) as Plugin;
      return jit;
    }));
  // A failed load is not swallowed: every operation that needs it rejects with it (yoga logs it).
  setTimeout(() => load().catch(() => {}), PRELOAD_AFTER_MS).unref();
  return {
    onExecute(payload) {
      if (jit) return jit.onExecute?.(payload);
      return load().then((loaded) => loaded.onExecute?.(payload));
    },
    onSubscribe(payload) {
      if (jit) return jit.onSubscribe?.(payload);
      return load().then((loaded) => loaded.onSubscribe?.(payload));
    },
  };
}
