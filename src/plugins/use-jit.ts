/**
 * Queries and mutations run through graphql-jit (`@envelop/graphql-jit`): each document is compiled
 * once into a function, which then runs without graphql-js's per-field bookkeeping. Subscriptions and
 * operations with `@defer`/`@stream` keep yoga's executor: graphql-jit knows neither incremental
 * delivery nor the per-event context the subscription plugin gives each event.
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import { BREAK, type DocumentNode, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';

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
  // Yoga hands the same DocumentNode for the same text: one walk per document.
  const incremental = new WeakMap<DocumentNode, boolean>();
  return useGraphQlJit(
    {},
    {
      enableIf: ({ document }) => {
        let found = incremental.get(document);
        if (found === undefined) incremental.set(document, (found = isIncremental(document)));
        return !found;
      },
    },
  ) as Plugin;
}
