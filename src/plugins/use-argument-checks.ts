/**
 * Range checks of the paging and trace arguments (`first`, `last`, `offset`, `limit`), made on the whole
 * operation before execution starts: an operation asking for a bad window fails as a whole with
 * BAD_USER_INPUT and sends no upstream request, even where the field sits under one that would
 * otherwise load something first.
 */
import { GraphQLInt, Kind, type DocumentNode, type SelectionSetNode, valueFromAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badUserInput } from '../errors.js';
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

/** The first bad `first`/`offset`/`limit` of the operation, with its message. */
function findBadArgument(document: DocumentNode, variables: Record<string, unknown> | undefined, limits: ArgumentLimits) {
  const fragments = new Map(
    document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [])),
  );
  const seen = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined): { argument: string; message: string; max?: number } | undefined => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        for (const argument of selection.arguments ?? []) {
          const name = argument.name.value;
          if (name !== 'first' && name !== 'last' && name !== 'offset' && name !== 'limit') continue;
          const bad = check(name, valueFromAST(argument.value, GraphQLInt, variables as never), limits);
          if (bad) return { argument: name, ...bad };
        }
        const found = visit(selection.selectionSet);
        if (found) return found;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const found = visit(selection.selectionSet);
        if (found) return found;
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const found = visit(fragments.get(selection.name.value)?.selectionSet);
        if (found) return found;
      }
    }
    return undefined;
  };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const found = visit(definition.selectionSet);
    if (found) return found;
  }
  return undefined;
}

export function useArgumentChecks(limits: ArgumentLimits): Plugin {
  const refuse = (args: { document: DocumentNode; variableValues?: Record<string, unknown> | null }) => {
    const bad = findBadArgument(args.document, args.variableValues ?? undefined, limits);
    if (!bad) return undefined;
    const { message, ...extensions } = bad;
    return { errors: [badUserInput(message, extensions)] };
  };
  return refuseBeforeExecution(refuse);
}
