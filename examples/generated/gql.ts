/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query FailedBuilds($upstream: String!, $project: ID!, $first: Int!, $after: String) {\n    project(upstream: $upstream, id: $project) {\n      builds(scope: [FAILED], first: $first, after: $after) {\n        nodes {\n          id\n          name\n          ref\n          failureReason\n          webUrl\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.FailedBuildsDocument,
    "\n  subscription TailBuild($id: ID!, $offset: Int) {\n    buildTrace(id: $id, offset: $offset) {\n      offset\n      nextOffset\n      content\n      complete\n    }\n  }\n": typeof types.TailBuildDocument,
};
const documents: Documents = {
    "\n  query FailedBuilds($upstream: String!, $project: ID!, $first: Int!, $after: String) {\n    project(upstream: $upstream, id: $project) {\n      builds(scope: [FAILED], first: $first, after: $after) {\n        nodes {\n          id\n          name\n          ref\n          failureReason\n          webUrl\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.FailedBuildsDocument,
    "\n  subscription TailBuild($id: ID!, $offset: Int) {\n    buildTrace(id: $id, offset: $offset) {\n      offset\n      nextOffset\n      content\n      complete\n    }\n  }\n": types.TailBuildDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FailedBuilds($upstream: String!, $project: ID!, $first: Int!, $after: String) {\n    project(upstream: $upstream, id: $project) {\n      builds(scope: [FAILED], first: $first, after: $after) {\n        nodes {\n          id\n          name\n          ref\n          failureReason\n          webUrl\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.js').FailedBuildsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TailBuild($id: ID!, $offset: Int) {\n    buildTrace(id: $id, offset: $offset) {\n      offset\n      nextOffset\n      content\n      complete\n    }\n  }\n"): typeof import('./graphql.js').TailBuildDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
