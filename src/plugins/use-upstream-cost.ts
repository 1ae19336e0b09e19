/**
 * Refuses an operation whose cost is over `limits.maxCost` before it executes (so before any upstream
 * request). Unlike graphql-armor's cost limit, which reads no arguments, a connection's cost is its
 * children's times its page size, taken from the coerced argument: a literal, a variable, the schema's
 * default, else the resolvers' default page size (20). So `builds(first: $n) { nodes { pipeline {
 * builds(first: $n) … } } }` with `n = 100` costs what the literal `first: 100` does, and 30 aliases of
 * it are refused instead of fanning out to 3,030 upstream requests. graphql-query-complexity walks
 * the operation (fragments, `@include`/`@skip`, abstract types) with the variables; this file only
 * prices a field. Runs at execute (and subscribe) time, because validation results are cached per
 * document and never see the variables.
 */
import { type ASTNode, BREAK, GraphQLError, type DocumentNode, type GraphQLSchema, getNamedType, isLeafType, visit } from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import type { Plugin } from 'graphql-yoga';
import { DEFAULT_PAGE_SIZE } from '../resolvers/helpers.js';
import { refuseBeforeExecution } from './refuse-before-execution.js';

export interface UpstreamCostOptions {
  /** Highest cost an operation may have. @default limits.maxCost (20000) */
  maxCost: number;
  /** The largest `first` (what an out-of-range `first` is priced at; the argument checks refuse it anyway). @default maxPageSize (100) */
  maxFirst: number;
}

/** A scalar or enum field. */
const LEAF_COST = 1;
/** An object field: resolving it, and perhaps loading it. */
const OBJECT_COST = 2;
/** `Build.trace(limit)` reads up to `limit` bytes (or lines): one more unit per this many. */
const TRACE_UNITS_PER_COST = 64 * 1024;

/** The page size a `first` argument asks for, as resolvers will use it. */
function pageSize(first: unknown, max: number): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  return typeof first === 'number' && Number.isInteger(first) && first >= 1 && first <= max ? first : max;
}

export function upstreamCostEstimator(maxFirst: number): ComplexityEstimator {
  return ({ field, args, childComplexity }) => {
    if (isLeafType(getNamedType(field.type))) return LEAF_COST;
    if (field.args.some((arg) => arg.name === 'first')) {
      // A feed (`Query.builds(sources:)`) reads a page of each source: priced like one alias per source.
      const lists = Array.isArray(args.sources) ? Math.max(1, args.sources.length) : 1;
      // A backward page (`last`) reads as many items as a forward one.
      return OBJECT_COST + lists * pageSize(args.last ?? args.first, maxFirst) * childComplexity;
    }
    if (field.name === 'trace' && typeof args.limit === 'number' && args.limit > 0) {
      return OBJECT_COST + childComplexity + Math.ceil(args.limit / TRACE_UNITS_PER_COST);
    }
    return OBJECT_COST + childComplexity;
  };
}

/** Arguments and directives whose value changes an operation's cost. */
const PRICED_ARGUMENTS = new Set(['first', 'last', 'limit', 'sources']);
const PRICED_DIRECTIVES = new Set(['include', 'skip']);

/** Whether any variable of the document reaches a priced argument or directive (else its cost is the document's). */
function costDependsOnVariables(document: DocumentNode): boolean {
  const hasVariable = (node: ASTNode): boolean => {
    let found = false;
    visit(node, {
      Variable() {
        found = true;
        return BREAK;
      },
    });
    return found;
  };
  let depends = false;
  visit(document, {
    Argument(node) {
      if (!PRICED_ARGUMENTS.has(node.name.value) || !hasVariable(node.value)) return undefined;
      depends = true;
      return BREAK;
    },
    Directive(node) {
      if (!PRICED_DIRECTIVES.has(node.name.value) || !hasVariable(node)) return undefined;
      depends = true;
      return BREAK;
    },
  });
  return depends;
}

function costError(cost: number, max: number): GraphQLError {
  return new GraphQLError(`Query cost limit of ${max} exceeded, found ${cost}: ask for fewer or smaller lists`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'maxCost', cost, max, http: { status: 400 } },
  });
}

export function useUpstreamCost(options: UpstreamCostOptions): Plugin {
  const estimators = [upstreamCostEstimator(options.maxFirst)];
  // A document whose variables reach no priced argument costs the same every time: price it once (yoga
  // hands the same DocumentNode for the same text). Others are priced per execution, and not cached:
  // a cache keyed by variable values would grow with whatever values clients send.
  const dependsOnVariables = new WeakMap<DocumentNode, boolean>();
  const constant = new WeakMap<DocumentNode, Map<string, number>>();

  const costOf = (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null) => {
    let usesVariables = dependsOnVariables.get(document);
    if (usesVariables === undefined) dependsOnVariables.set(document, (usesVariables = costDependsOnVariables(document)));
    const key = operationName ?? '';
    // Only names the document defines are kept, so the cache is bounded by the document's size.
    const cacheable = !usesVariables && (!operationName || document.definitions.some((d) => d.kind === 'OperationDefinition' && d.name?.value === operationName));
    if (cacheable) {
      const cached = constant.get(document)?.get(key);
      if (cached !== undefined) return cached;
    }
    const cost = getComplexity({ schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined, estimators });
    if (cacheable) {
      let byName = constant.get(document);
      if (!byName) constant.set(document, (byName = new Map()));
      byName.set(key, cost);
    }
    return cost;
  };

  const refuse = (args: { schema: GraphQLSchema; document: DocumentNode; variableValues?: Record<string, unknown> | null; operationName?: string | null }) => {
    let cost: number;
    try {
      cost = costOf(args.schema, args.document, args.variableValues ?? undefined, args.operationName);
    } catch {
      // Variables that do not coerce: execution reports them with its own coded error.
      return undefined;
    }
    return cost > options.maxCost ? { errors: [costError(cost, options.maxCost)] } : undefined;
  };

  return refuseBeforeExecution(refuse);
}
