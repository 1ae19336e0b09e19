/**
 * `Build.logSearch`'s pattern and `context`, checked on the whole operation before execution as
 * useArgumentChecks does `first`: a pattern that does not compile (or is empty, or too long) fails the
 * operation with BAD_USER_INPUT before the build it searches is even read.
 */
import { BREAK, GraphQLBoolean, GraphQLInt, GraphQLString, Kind, type DocumentNode, type SelectionSetNode, type ValueNode, valueFromAST, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { BuildgateError } from '../errors.js';
import { checkSearchOptions } from '../trace/log-search.js';
import { refuseBeforeExecution } from './refuse-before-execution.js';

const FIELD = 'logSearch';

function findBadSearch(document: DocumentNode, variables: Record<string, unknown> | undefined): BuildgateError | undefined {
  const fragments = new Map(
    document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [])),
  );
  const seen = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined): BuildgateError | undefined => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === FIELD) {
          const values = new Map((selection.arguments ?? []).map((argument) => [argument.name.value, argument.value] as const));
          const read = (name: string, type: typeof GraphQLInt | typeof GraphQLString | typeof GraphQLBoolean) => {
            const node: ValueNode | undefined = values.get(name);
            return node ? valueFromAST(node, type, variables as never) : undefined;
          };
          const pattern = read('pattern', GraphQLString);
          // Not a string: execution's own coercion error says so.
          if (typeof pattern !== 'string') continue;
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
