/**
 * Every refusal carries `extensions.code`: a document that does not parse is GRAPHQL_PARSE_FAILED, one
 * that does not validate (graphql-armor's limits included, the token limit too although armor raises it
 * from the parser, each named in `extensions.limit` and not worded as a syntax error) is
 * GRAPHQL_VALIDATION_FAILED, and variables that do not fit their declared types (null for `ID!`, a
 * missing one, an Int overflow, a wrong type, an unknown type) are BAD_USER_INPUT. A GET whose
 * `variables` or `extensions` is not JSON is BAD_REQUEST, where yoga would answer 500.
 */
import { type ASTNode, type DocumentNode, type ExecutionResult, GraphQLError, Kind, visit } from 'graphql';
import { type Plugin, createGraphQLError, isAsyncIterable } from 'graphql-yoga';

/** graphql-armor's messages, to name the limit an operation hit. */
const LIMITS: ReadonlyArray<[RegExp, string]> = [
  [/depth limit/i, 'maxDepth'],
  [/aliases limit/i, 'maxAliases'],
  [/directives limit/i, 'maxDirectives'],
  [/token limit/i, 'maxTokens'],
  [/cost limit|query cost/i, 'maxCost'],
];

/** graphql-armor words every refusal as a parser error ("Syntax Error: Token limit …") whichever phase raised it. */
const ARMOR_PREFIX = /^Syntax Error: /;

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions?.code) return error;
  const limit = LIMITS.find(([pattern]) => pattern.test(error.message))?.[1];
  // A limit is a refusal of a well-formed document (max-tokens raises it from inside the parser).
  if (limit) code = 'GRAPHQL_VALIDATION_FAILED';
  return new GraphQLError(limit ? error.message.replace(ARMOR_PREFIX, '') : error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code, ...(limit && { limit }), http: { status: 400 } },
  });
}

/** graphql-jit words them as graphql-js does, with the definition's location but no node. */
const JIT_VARIABLE_MESSAGE = /^Variable "\$[_A-Za-z][_0-9A-Za-z]*" /;

/**
 * graphql-js reports a variable's coercion failure on its definition, outside any path; graphql-jit
 * (use-jit.ts) outside any path too, with no node.
 */
const isVariableError = (error: GraphQLError) =>
  error.path === undefined &&
  (error.nodes ? error.nodes.some((node) => node.kind === Kind.VARIABLE_DEFINITION) : JIT_VARIABLE_MESSAGE.test(error.message));

/** The type nodes of a document's variable definitions: an error on one is about the variables. */
function variableTypeNodes(document: DocumentNode): Set<ASTNode> {
  const nodes = new Set<ASTNode>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) visit(variable.type, { enter: (node) => void nodes.add(node) });
  }
  return nodes;
}

function codeVariableErrors(result: ExecutionResult, setResult: (result: ExecutionResult) => void): void {
  if (!result.errors?.some((error) => !error.extensions?.code && isVariableError(error))) return;
  setResult({ ...result, errors: result.errors.map((error) => (isVariableError(error) ? withCode(error, 'BAD_USER_INPUT') : error)) });
}

/** GET parameters yoga JSON.parses itself, throwing a SyntaxError it masks as a 500. */
const JSON_PARAMS = ['variables', 'extensions'];

function checkJsonParams(url: string): void {
  const mark = url.indexOf('?');
  if (mark === -1) return;
  const params = new URLSearchParams(url.slice(mark + 1));
  for (const name of JSON_PARAMS) {
    const value = params.get(name);
    if (!value) continue;
    try {
      JSON.parse(value);
    } catch {
      throw createGraphQLError(`The "${name}" parameter is not valid JSON.`, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
    }
  }
}

export function useErrorCodes(): Plugin {
  return {
    onRequestParse({ request }) {
      if (request.method === 'GET') checkJsonParams(request.url);
    },
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) replaceParseResult(withCode(result, 'GRAPHQL_PARSE_FAILED'));
        else if (result instanceof Error) replaceParseResult(withCode(new GraphQLError(result.message), 'GRAPHQL_PARSE_FAILED'));
      };
    },
    onValidate({ params, validateFn, setValidationFn }) {
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
        if (result.length === 0) return;
        const variableTypes = variableTypeNodes(params.documentAST);
        const codeOf = (error: GraphQLError) => (error.nodes?.some((node) => variableTypes.has(node)) ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED');
        setResult(result.map((error) => withCode(error, codeOf(error))));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!isAsyncIterable(result)) codeVariableErrors(result, setResult);
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) codeVariableErrors(result, setResult);
        },
      };
    },
  };
}
