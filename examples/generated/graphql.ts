/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type FailedBuildsQueryVariables = Exact<{
  upstream: string;
  project: string | number;
  first: number;
  after?: string | null | undefined;
}>;


export type FailedBuildsQuery = { project: { builds: { nodes: Array<{ id: string, name: string, ref: string | null, failureReason: string | null, webUrl: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } | null } | null };

export type TailBuildSubscriptionVariables = Exact<{
  id: string | number;
  offset?: number | null | undefined;
}>;


export type TailBuildSubscription = { buildTrace: { offset: number, nextOffset: number, content: string, complete: boolean } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const FailedBuildsDocument = new TypedDocumentString(`
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
    `, {"hash":"sha256:b795108e6cff917e8cf307eeebafc495345fc8b5193d9a58a0c7013ec2b5ff04"}) as unknown as TypedDocumentString<FailedBuildsQuery, FailedBuildsQueryVariables>;
export const TailBuildDocument = new TypedDocumentString(`
    subscription TailBuild($id: ID!, $offset: Int) {
  buildTrace(id: $id, offset: $offset) {
    offset
    nextOffset
    content
    complete
  }
}
    `, {"hash":"sha256:a8c279e3ce0431244ab1c74712767b2781db8309d878b8948008a4a3753554c7"}) as unknown as TypedDocumentString<TailBuildSubscription, TailBuildSubscriptionVariables>;