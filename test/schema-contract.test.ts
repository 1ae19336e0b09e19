/**
 * The schema's public names (types, fields, arguments, codes) that clients and tests rely on, read back from the running gateway by
 * introspection, so a rename in schema/ cannot slip through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
let types: Map<string, any>;

beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 } });
  const result = await stack.graphql(`{ __schema { types { name kind description
    fields { name description args { name description type { kind name ofType { kind name ofType { kind name ofType { name } } } } } type { kind name ofType { kind name ofType { kind name ofType { name } } } } }
    enumValues { name description } inputFields { name description } interfaces { name } } } }`);
  types = new Map(result.data!.__schema.types.map((type: any) => [type.name, type]));
});
afterAll(() => stack?.close());

const fieldNames = (type: string) => (types.get(type)?.fields ?? []).map((field: any) => field.name);

/** A field's type as SDL, e.g. `[BuildStatus!]` or `BuildConnection!`. */
function sdl(type: any): string {
  if (type.kind === 'NON_NULL') return `${sdl(type.ofType)}!`;
  if (type.kind === 'LIST') return `[${sdl(type.ofType)}]`;
  return type.name;
}

function signature(typeName: string, fieldName: string): string {
  const field = types.get(typeName).fields.find((f: any) => f.name === fieldName);
  const args = field.args.map((arg: any) => `${arg.name}: ${sdl(arg.type)}`).join(', ');
  return `${fieldName}${args ? `(${args})` : ''}: ${sdl(field.type)}`;
}

describe('schema contract', () => {
  it('has the root fields of the contract', () => {
    expect(signature('Query', 'upstreams')).toBe('upstreams: [Upstream!]!');
    expect(signature('Query', 'project')).toBe('project(upstream: String!, id: ID!): Project');
    expect(signature('Query', 'build')).toBe('build(id: ID!): Build');
    expect(signature('Query', 'node')).toBe('node(id: ID!): Node');
    expect(signature('Mutation', 'retryBuild')).toBe('retryBuild(id: ID!, options: RetryOptions): RetryBuildPayload');
    for (const name of ['cancelBuild', 'eraseBuild', 'playBuild']) expect(signature('Mutation', name)).toMatch(new RegExp(`^${name}\\(id: ID!\\): \\w+Payload$`));
  });

  it('has Relay connections with the same arguments everywhere', () => {
    // Nullable since issue #13: a refused list (bad cursor, bad `first`) nulls itself, not its parent.
    const listArgs = '(scope: [BuildStatus!], first: Int, after: String, last: Int, before: String): BuildConnection';
    expect(signature('Project', 'builds')).toBe(`builds${listArgs}`);
    expect(signature('Pipeline', 'builds')).toBe(`builds${listArgs}`);
    expect(signature('Pipeline', 'bridges')).toBe(`bridges${listArgs}`);
    expect(signature('Commit', 'builds')).toBe(`builds${listArgs}`);
    // Issue #15: pipelines as lists, with the build lists' paging arguments and filters of their own.
    const pipelineArgs = '(scope: [BuildStatus!], ref: String, source: String, first: Int, after: String, last: Int, before: String): PipelineConnection';
    expect(signature('Project', 'pipelines')).toBe(`pipelines${pipelineArgs}`);
    expect(signature('Commit', 'pipelines')).toBe(`pipelines${pipelineArgs}`);
    expect(fieldNames('PipelineConnection')).toEqual(['edges', 'nodes', 'pageInfo', 'totalCount']);
    expect(signature('PipelineEdge', 'node')).toBe('node: Pipeline!');
    expect(signature('Project', 'build')).toBe('build(id: ID!): Build');
    expect(signature('Project', 'pipeline')).toBe('pipeline(id: ID!): Pipeline');
    expect(signature('Project', 'commit')).toBe('commit(sha: String!): Commit');
    expect(fieldNames('BuildConnection')).toEqual(expect.arrayContaining(['edges', 'nodes', 'pageInfo', 'totalCount']));
    expect(signature('BuildConnection', 'totalCount')).toBe('totalCount: Int');
    expect(fieldNames('BuildEdge')).toEqual(expect.arrayContaining(['cursor', 'node']));
    expect(fieldNames('PageInfo')).toEqual(expect.arrayContaining(['hasNextPage', 'endCursor']));
  });

  it('has every Build field of the contract', () => {
    expect(fieldNames('Build')).toEqual(
      expect.arrayContaining([
        'id', 'upstreamId', 'upstream', 'name', 'stage', 'status', 'upstreamStatus', 'ref', 'tag', 'allowFailure', 'coverage',
        'createdAt', 'startedAt', 'finishedAt', 'duration', 'queuedDuration', 'webUrl', 'tagList', 'commit', 'pipeline', 'user',
        'runner', 'artifacts', 'artifactsExpireAt', 'trace', 'retryable', 'cancelable', 'playable', 'failureReason', 'erasedAt',
      ]),
    );
    expect(signature('Build', 'status')).toBe('status: BuildStatus!');
    expect(signature('Build', 'trace')).toBe('trace(offset: Int, limit: Int): TraceChunk');
    expect(fieldNames('TraceChunk')).toEqual(expect.arrayContaining(['offset', 'nextOffset', 'content', 'complete']));
    for (const type of ['Build', 'Project', 'Pipeline', 'Commit', 'User']) {
      expect(types.get(type).interfaces.map((i: any) => i.name)).toContain('Node');
    }
  });

  it('has the 13 build statuses, WAITING_FOR_CALLBACK included, and the upstream kinds', () => {
    expect(types.get('BuildStatus').enumValues.map((v: any) => v.name)).toEqual([
      'CREATED', 'WAITING_FOR_RESOURCE', 'PREPARING', 'WAITING_FOR_CALLBACK', 'PENDING', 'RUNNING', 'SUCCESS', 'FAILED',
      'CANCELING', 'CANCELED', 'SKIPPED', 'MANUAL', 'SCHEDULED',
    ]);
    expect(types.get('UpstreamKind').enumValues.map((v: any) => v.name)).toEqual(['GITLAB_V4', 'GITLAB_V3', 'BKCI_APIGW']);
  });

  it('documents every type, field, argument and enum value it defines', () => {
    const own = [...types.values()].filter((type) => !type.name.startsWith('__') && !['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name));
    const undocumented: string[] = [];
    for (const type of own) {
      if (!type.description) undocumented.push(type.name);
      for (const field of type.fields ?? []) {
        if (!field.description) undocumented.push(`${type.name}.${field.name}`);
        for (const arg of field.args) if (!arg.description) undocumented.push(`${type.name}.${field.name}(${arg.name})`);
      }
      for (const value of type.enumValues ?? []) if (!value.description) undocumented.push(`${type.name}.${value.name}`);
      for (const input of type.inputFields ?? []) if (!input.description) undocumented.push(`${type.name}.${input.name}`);
    }
    expect(undocumented).toEqual([]);
  });
});
