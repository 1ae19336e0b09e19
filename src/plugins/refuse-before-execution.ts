/**
 * The hooks of a plugin that checks an operation with its variables and refuses it as a whole before
 * any resolver runs. Validation cannot do this: yoga caches it per document, without the variables.
 */
import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface OperationArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  variableValues?: Record<string, unknown> | null;
  operationName?: string | null;
}

export function refuseBeforeExecution(refuse: (args: OperationArgs) => ExecutionResult | undefined): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const result = refuse(args);
      if (result) setResultAndStopExecution(result);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const result = refuse(args);
      if (result) setResultAndStopExecution(result);
    },
  };
}
