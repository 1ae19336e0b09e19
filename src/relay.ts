/**
 * Opaque global ids and Relay cursors. Both are base64url JSON arrays, so no separator in a project
 * path or a ref can ever be misread; both are validated on the way in and refused with BAD_USER_INPUT.
 */
import { badUserInput } from './errors.js';
import type { BuildModel, BuildPage, PipelineModel, PipelinePage } from './model.js';

export type NodeType = 'Build' | 'Pipeline' | 'Commit' | 'Project' | 'User';

const NODE_ARITY: Record<NodeType, number> = {
  // [upstream, projectId, buildId]
  Build: 3,
  // [upstream, projectId, pipelineId]
  Pipeline: 3,
  // [upstream, projectId, sha]
  Commit: 3,
  // [upstream, projectId]
  Project: 2,
  // [upstream, userId]
  User: 2,
};

export interface DecodedId {
  type: NodeType;
  parts: string[];
}

const MAX_ID_LENGTH = 1024;

/** base64url of JSON: what ids and cursors both are. */
function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The JSON value a token holds, or undefined when it is none (empty, too long, not base64url, not JSON). */
function decodeToken(token: string): unknown {
  if (token.length === 0 || token.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export function encodeGlobalId(type: NodeType, ...parts: string[]): string {
  return encodeToken([type, ...parts]);
}

export function decodeGlobalId(id: string, expected?: NodeType): DecodedId {
  const invalid = () =>
    badUserInput(`"${id.length > 64 ? `${id.slice(0, 64)}…` : id}" is not a valid ${expected ?? 'node'} id`, { argument: 'id' });
  const decoded = decodeToken(id);
  if (!Array.isArray(decoded) || !decoded.every((part) => typeof part === 'string' && part.length > 0)) throw invalid();
  const [type, ...parts] = decoded as string[];
  if (!type || !(type in NODE_ARITY) || NODE_ARITY[type as NodeType] !== parts.length) throw invalid();
  if (expected && type !== expected) throw invalid();
  return { type: type as NodeType, parts };
}

/** Which list a cursor belongs to, so a cursor of one list cannot be replayed against another. */
export function listKey(...parts: string[]): string {
  return parts.join('\u0000');
}

function checksum(text: string): string {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return (hash >>> 0).toString(36);
}

export function encodeCursor(list: string, position: string): string {
  return cursorOf(checksum(list), position);
}

function cursorOf(listChecksum: string, position: string): string {
  return encodeToken([listChecksum, position]);
}

export function decodeCursor(list: string, cursor: string, argument: 'after' | 'before' = 'after'): string {
  const decoded = decodeToken(cursor);
  if (!Array.isArray(decoded) || decoded.length !== 2 || decoded[0] !== checksum(list) || typeof decoded[1] !== 'string') {
    throw badUserInput(`\`${argument}\` is not a cursor of this list`, { argument });
  }
  return decoded[1];
}

export interface EdgeModel<T> {
  cursor: string;
  node: T;
}

export interface ConnectionModel<T> {
  edges: EdgeModel<T>[];
  nodes: T[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number | null;
}

export type BuildEdgeModel = EdgeModel<BuildModel>;
export type BuildConnectionModel = ConnectionModel<BuildModel>;
export type PipelineEdgeModel = EdgeModel<PipelineModel>;
export type PipelineConnectionModel = ConnectionModel<PipelineModel>;

/** What every adapter page shares beside its items. */
interface PageOf {
  positions: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: number | null;
}

/**
 * A page of items as a Relay connection, its cursors made when asked for (a JSON and a base64 encoding
 * each: most queries select `nodes` only). The lazy parts are getters of classes, not of object literals:
 * a literal with getters is a dictionary-mode object whose accessor pairs V8 allocates in old space, so
 * its getter closures, and the page they hold, lived through every scavenge and were promoted (some
 * 30 KB a 20-build list; bench/RESULTS.md, "#16, fourth round").
 */
export class Connection<T> implements ConnectionModel<T> {
  readonly nodes: T[];
  readonly pageInfo: ConnectionPageInfo<T>;
  readonly totalCount: number | null;
  /** The cursor of the i-th node, made anew. */
  readonly #cursorOf: (i: number) => string;
  #edges: EdgeModel<T>[] | undefined;

  /** `emptyEndCursor`: the end cursor of a page without nodes (none, unless there is more to read after it). */
  constructor(nodes: T[], cursorOf: (i: number) => string, page: Omit<PageOf, 'positions'>, emptyEndCursor: string | null = null) {
    this.nodes = nodes;
    this.#cursorOf = cursorOf;
    this.totalCount = page.totalCount;
    this.pageInfo = new ConnectionPageInfo(this, page, emptyEndCursor);
  }

  get edges(): EdgeModel<T>[] {
    return (this.#edges ??= this.nodes.map((node, i) => ({ node, cursor: this.#cursorOf(i) })));
  }

  /** The cursor of the i-th node, from its edge when the edges were made. */
  cursorAt(i: number): string {
    return this.#edges?.[i]?.cursor ?? this.#cursorOf(i);
  }
}

class ConnectionPageInfo<T> {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  readonly #connection: Connection<T>;
  readonly #emptyEndCursor: string | null;

  constructor(connection: Connection<T>, page: Omit<PageOf, 'positions'>, emptyEndCursor: string | null) {
    this.hasNextPage = page.hasNextPage;
    this.hasPreviousPage = page.hasPreviousPage;
    this.#connection = connection;
    this.#emptyEndCursor = emptyEndCursor;
  }

  get startCursor(): string | null {
    return this.#connection.nodes.length === 0 ? null : this.#connection.cursorAt(0);
  }

  get endCursor(): string | null {
    const last = this.#connection.nodes.length - 1;
    return last < 0 ? this.#emptyEndCursor : this.#connection.cursorAt(last);
  }
}

function connectionOf<T>(list: string, items: T[], page: PageOf): ConnectionModel<T> {
  const listChecksum = checksum(list);
  const { positions } = page;
  return new Connection(items, (i) => cursorOf(listChecksum, positions[i]!), page);
}

export function toConnection(list: string, page: BuildPage): BuildConnectionModel {
  return connectionOf(list, page.builds, page);
}

export function toPipelineConnection(list: string, page: PipelinePage): PipelineConnectionModel {
  return connectionOf(list, page.pipelines, page);
}
