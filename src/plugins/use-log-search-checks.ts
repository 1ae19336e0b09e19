/**
 * `Build.logSearch`'s pattern and `context`, checked on the whole operation before execution as
 * useArgumentChecks does `first`: a pattern that does not compile (or is empty, or too long) fails the
 * operation with BAD_USER_INPUT before the build it searches is even read.
 */
import { BREAK, GraphQLBoolean, GraphQLInt, GraphQLString, type DocumentNode, type ValueNode, valueFromAST, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { BuildgateError } from '../errors.js';
import { checkSearchOptions } from '../trace/log-search.js';
import { findInOperation } from './find-in-operation.js';
import { refuseBeforeExecution } from './refuse-before-execution.js';

const FIELD = 'logSearch';

function findBadSearch(document: DocumentNode, variables: Record<string, unknown> | undefined): BuildgateError | undefined {
  return findInOperation(document, (field) => {
    if (field.name.value !== FIELD) return undefined;
    const values = new Map((field.arguments ?? []).map((argument) => [argument.name.value, argument.value] as const));
    const read = (name: string, type: typeof GraphQLInt | typeof GraphQLString | typeof GraphQLBoolean) => {
      const node: ValueNode | undefined = values.get(name);
      return node ? valueFromAST(node, type, variables as never) : undefined;
    };
    const pattern = read('pattern', GraphQLString);
    // Not a string: execution's own coercion error says so.
    if (typeof pattern !== 'string') return undefined;
    try {
      checkSearchOptions({
        pattern,
        regex: (read('regex', GraphQLBoolean) as boolean | null | undefined) ?? false,
        caseSensitive: (read('caseSensitive', GraphQLBoolean) as boolean | null | undefined) ?? false,
        context: (read('context', GraphQLInt) as number | null | undefined) ?? 0,
        first: 1,
      });
    } catch (error) {
      if (error instanceof BuildgateError) return error;
      throw error;
    }
    return undefined;
  });
}

/** Whether the document selects `logSearch` anywhere (field names only: fragments included). */
function mentionsSearch(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value !== FIELD) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

export function useLogSearchChecks(): Plugin {
  // Yoga hands the same DocumentNode for the same text: most operations never search, and pay one walk.
  const searches = new WeakMap<DocumentNode, boolean>();
  return refuseBeforeExecution((args) => {
    let mentions = searches.get(args.document);
    if (mentions === undefined) searches.set(args.document, (mentions = mentionsSearch(args.document)));
    if (!mentions) return undefined;
    const bad = findBadSearch(args.document, args.variableValues ?? undefined);
    return bad ? { errors: [bad] } : undefined;
  });
}
