/**
 * The example client's operations. `graphql()` is generated from these very strings
 * (`npm run examples:codegen`): each call returns a document typed with its result and variables.
 */
import { graphql } from '../generated/gql.js';

/** One page of a project's failed builds, newest first. */
export const FailedBuildsQuery = graphql(`
  query FailedBuilds($upstream: String!, $project: ID!, $first: Int!, $after: String) {
    project(upstream: $upstream, id: $project) {
      builds(scope: [FAILED], first: $first, after: $after) {
        nodes {
          id
          name
          ref
          failureReason
          webUrl
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

/** A build's log from `offset`, piece by piece as it grows; the last piece has `complete: true`. */
export const TailBuildSubscription = graphql(`
  subscription TailBuild($id: ID!, $offset: Int) {
    buildTrace(id: $id, offset: $offset) {
      offset
      nextOffset
      content
      complete
    }
  }
`);
