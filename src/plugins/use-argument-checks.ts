/**
 * Range checks of the paging and trace arguments (`first`, `last`, `offset`, `limit`), made on the whole
 * operation before execution starts: an operation asking for a bad window fails as a whole with
 * BAD_USER_INPUT and sends no upstream request, even where the field sits under one that would
 * otherwise load something first.
 */
import { type ArgumentNode, GraphQLInt, type DocumentNode, valueFromAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badUserInput } from '../errors.js';
import { findInOperation } from './find-in-operation.js';
import { refuseBeforeExecution } from './refuse-before-execution.js';

export interface ArgumentLimits {
  /** Largest `first`. */
  maxFirst: number;
  /** Largest `limit` of `Build.trace` any upstream allows. */
  maxTraceLimit: number;
}

/** A message and extensions for a bad value, undefined for a good one (or none). */
function check(name: string, value: unknown, limits: ArgumentLimits): { message: string; max?: number } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) return { message: `\`${name}\` must be an integer` };
  if ((name === 'first' || name === 'last') && (value < 1 || value > limits.maxFirst)) {
    return { message: `\`${name}\` must be between 1 and ${limits.maxFirst}, got ${value}`, max: limits.maxFirst };
  }
  if (name === 'offset' && value < 0) return { message: '`offset` must be 0 or more' };
  if (name === 'limit' && (value < 1 || value > limits.maxTraceLimit)) {
    return { message: `\`limit\` must be between 1 and ${limits.maxTraceLimit}`, max: limits.maxTraceLimit };
  }
  return undefined;
}

const CHECKED = new Set(['first', 'last', 'offset', 'limit']);

/** Every `first`/`last`/`offset`/`limit` argument the operation selects, in document order. */
function checkedArguments(document: DocumentNode): ArgumentNode[] {
  const found: ArgumentNode[] = [];
  findInOperation(document, (field) => {
    for (const argument of field.arguments ?? []) if (CHECKED.has(argument.name.value)) found.push(argument);
    return undefined;
  });
  return found;
}

/** The first bad `first`/`last`/`offset`/`limit` of the operation, with its message. */
function findBadArgument(checked: readonly ArgumentNode[], variables: Record<string, unknown> | undefined, limits: ArgumentLimits) {
  for (const argument of checked) {
    const name = argument.name.value;
    const bad = check(name, valueFromAST(argument.value, GraphQLInt, variables as never), limits);
    if (bad) return { argument: name, ...bad };
  }
  return undefined;
}

export function useArgumentChecks(limits: ArgumentLimits): Plugin {
  // Yoga hands the same DocumentNode for the same text: the walk is once per document, and an
  // operation with none of these arguments (most single-entity queries) checks nothing.
  const byDocument = new WeakMap<DocumentNode, ArgumentNode[]>();
  const refuse = (args: { document: DocumentNode; variableValues?: Record<string, unknown> | null }) => {
    let checked = byDocument.get(args.document);
    if (!checked) byDocument.set(args.document, (checked = checkedArguments(args.document)));
    if (checked.length === 0) return undefined;
    const bad = findBadArgument(checked, args.variableValues ?? undefined, limits);
    if (!bad) return undefined;
    const { message, ...extensions } = bad;
    return { errors: [badUserInput(message, extensions)] };
  };
  return refuseBeforeExecution(refuse);
}
