/**
 * Adds the errors resolvers reported beside their data (resolvers/partial-errors.ts) to the result's
 * `errors`, after those graphql-js collected: a feed's failed sources, each at the feed's path.
 */
import { type Plugin, handleStreamOrSingleExecutionResult } from 'graphql-yoga';
import { takePartialErrors } from '../resolvers/partial-errors.js';

export function usePartialErrors(): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone(payload) {
          return handleStreamOrSingleExecutionResult(payload, ({ args, result, setResult }) => {
            const extra = takePartialErrors(args.contextValue as object);
            if (extra) setResult({ ...result, errors: [...(result.errors ?? []), ...extra] });
          });
        },
      };
    },
  };
}
