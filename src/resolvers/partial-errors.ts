/**
 * Errors a resolver reports beside the data it returns: a feed answers with the builds of the sources
 * that answered and an error for each one that failed. graphql-js records an error only where a field
 * throws, so these are kept per execution (the context object) and added to the result by
 * usePartialErrors (plugins/use-partial-errors.ts) when execution ends.
 */
import { GraphQLError, type GraphQLResolveInfo, responsePathAsArray } from 'graphql';

const pending = new WeakMap<object, GraphQLError[]>();

/** Adds an error at `info`'s path to the answer of this execution. */
export function reportPartialError(
  context: object,
  info: Pick<GraphQLResolveInfo, 'path' | 'fieldNodes'>,
  message: string,
  extensions: Record<string, unknown>,
): void {
  const error = new GraphQLError(message, { nodes: info.fieldNodes, path: responsePathAsArray(info.path), extensions });
  const list = pending.get(context);
  if (list) list.push(error);
  else pending.set(context, [error]);
}

/** The errors reported during this execution, once (they are forgotten as they are taken). */
export function takePartialErrors(context: object): GraphQLError[] | undefined {
  const list = pending.get(context);
  if (list) pending.delete(context);
  return list;
}
