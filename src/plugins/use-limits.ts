/**
 * Refuses abusive operations before any resolver (so before any upstream request): depth, aliases,
 * directives, tokens and cost, with graphql-armor (max-depth 2.4.2, past the fragment-cache and
 * `__schema` bypasses), and field suggestions hidden in production. `useBodyLimit` caps the body size,
 * yoga itself batching.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { Plugin } from 'graphql-yoga';

export interface LimitsOptions {
  /** Deepest selection, fragments flattened. @default 12 */
  maxDepth: number;
  /** Most aliases in one operation. @default 30 */
  maxAliases: number;
  /** Most directives in one operation. @default 50 */
  maxDirectives: number;
  /** Most tokens in one document. @default 2000 */
  maxTokens: number;
  /** Highest cost (graphql-armor's: objects 2, scalars 1, ×1.5 per level). @default 20000 */
  maxCost: number;
  /** Hide "Did you mean …?" suggestions, which reveal the schema. @default true in production */
  hideSuggestions: boolean;
}

export function useLimits(options: LimitsOptions): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: options.maxDepth, flattenFragments: true, ignoreIntrospection: true },
    maxAliases: { n: options.maxAliases, allowList: ['__typename'] },
    maxDirectives: { n: options.maxDirectives },
    maxTokens: { n: options.maxTokens },
    costLimit: { maxCost: options.maxCost, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5, ignoreIntrospection: true },
    blockFieldSuggestion: { enabled: options.hideSuggestions },
  }) as Plugin;
}
