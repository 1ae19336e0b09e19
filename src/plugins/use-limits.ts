/**
 * Refuses abusive operations before any resolver (so before any upstream request): depth, aliases,
 * directives and tokens with graphql-armor (max-depth 2.4.2, past the fragment-cache and `__schema`
 * bypasses), field suggestions hidden in production, and cost with `useUpstreamCost`, which prices
 * lists by their page size from variables and defaults too (armor's cost limit reads literal
 * arguments only, so it is off). `useBodyLimit` caps the body size, yoga itself batching.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { Plugin } from 'graphql-yoga';
import { useUpstreamCost } from './use-upstream-cost.js';

export interface LimitsOptions {
  /** Deepest selection, fragments flattened. @default 12 */
  maxDepth: number;
  /** Most aliases in one operation. @default 30 */
  maxAliases: number;
  /** Most directives in one operation. @default 50 */
  maxDirectives: number;
  /** Most tokens in one document. @default 2000 */
  maxTokens: number;
  /** Highest cost (scalars 1, objects 2, a list its children × its `first`; see use-upstream-cost.ts). @default 20000 */
  maxCost: number;
  /** The largest `first` a list accepts. @default maxPageSize (100) */
  maxFirst: number;
  /** Hide "Did you mean …?" suggestions, which reveal the schema. @default true in production */
  hideSuggestions: boolean;
}

export function useLimits(options: LimitsOptions): Plugin {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: options.maxDepth, flattenFragments: true, ignoreIntrospection: true },
    maxAliases: { n: options.maxAliases, allowList: ['__typename'] },
    maxDirectives: { n: options.maxDirectives },
    maxTokens: { n: options.maxTokens },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: options.hideSuggestions },
  }) as Plugin;
  const cost = useUpstreamCost({ maxCost: options.maxCost, maxFirst: options.maxFirst });
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(armor);
      addPlugin(cost);
    },
  };
}
