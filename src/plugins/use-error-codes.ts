/**
 * Every refusal carries `extensions.code`: a document that does not parse is GRAPHQL_PARSE_FAILED, one
 * that does not validate (graphql-armor's limits included, named in `extensions.limit`) is
 * GRAPHQL_VALIDATION_FAILED.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** graphql-armor's messages, to name the limit an operation hit. */
const LIMITS: ReadonlyArray<[RegExp, string]> = [
  [/depth limit/i, 'maxDepth'],
  [/aliases limit/i, 'maxAliases'],
  [/directives limit/i, 'maxDirectives'],
  [/token limit/i, 'maxTokens'],
  [/cost limit|query cost/i, 'maxCost'],
];

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions?.code) return error;
  const limit = LIMITS.find(([pattern]) => pattern.test(error.message))?.[1];
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code, ...(limit && { limit }), http: { status: 400 } },
  });
}

export function useErrorCodes(): Plugin {
  return {
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) replaceParseResult(withCode(result, 'GRAPHQL_PARSE_FAILED'));
        else if (result instanceof Error) replaceParseResult(withCode(new GraphQLError(result.message), 'GRAPHQL_PARSE_FAILED'));
      };
    },
    onValidate({ validateFn, setValidationFn }) {
      // graphql-armor throws its first refusal out of validation instead of reporting it: catch it so
      // it is coded like any other validation error.
      setValidationFn((...args) => {
        try {
          return validateFn(...args);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      });
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
  };
}
