/**
 * The walk the pre-execution argument checks share: every field an operation selects, through inline
 * fragments and named ones (each named fragment once), in document order, until a check finds something.
 */
import { type DocumentNode, type FieldNode, Kind, type SelectionSetNode } from 'graphql';

/** The first non-undefined answer of `check` over the operation's fields, or undefined. */
export function findInOperation<T>(document: DocumentNode, check: (field: FieldNode) => T | undefined): T | undefined {
  const fragments = new Map(
    document.definitions.flatMap((definition) => (definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [])),
  );
  const seen = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined): T | undefined => {
    for (const selection of selectionSet?.selections ?? []) {
      let found: T | undefined;
      if (selection.kind === Kind.FIELD) {
        found = check(selection) ?? visit(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        found = visit(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        found = visit(fragments.get(selection.name.value)?.selectionSet);
      }
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const found = visit(definition.selectionSet);
    if (found !== undefined) return found;
  }
  return undefined;
}
