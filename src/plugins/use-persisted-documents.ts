/**
 * Persisted documents, the two kinds clients send in Apollo's `extensions.persistedQuery.sha256Hash`:
 *
 * - **Automatic persisted queries** (`@graphql-yoga/plugin-apq`): a hash the gateway has not seen is
 *   answered PERSISTED_QUERY_NOT_FOUND, the client sends it again with the text, and the gateway keeps
 *   the pair. Anyone can register, so the store is an LRU bounded in entries and in bytes: without a
 *   bound, registering documents is a way to fill the gateway's memory.
 * - **Trusted documents** (`@graphql-yoga/plugin-persisted-operations`): the fixed map a build wrote
 *   (graphql-codegen's `persisted-documents.json`). With `only`, nothing else runs and nobody registers.
 *
 * The yoga plugins read `onParams`, which only yoga's own HTTP path has; graphql-ws and the graphql-sse
 * endpoint parse the operation themselves. So with `only`, the check that a document is trusted is
 * made again where every transport passes, `onParse`: a text is accepted there only if it is one of the
 * trusted documents, character for character (so a WebSocket client sends the trusted text itself).
 */
import { useAPQ } from '@graphql-yoga/plugin-apq';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { type Plugin, createGraphQLError } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';

export interface PersistedDocumentsOptions {
  /** Trusted documents, id → text (see trusted-documents.ts). @default none */
  trusted?: ReadonlyMap<string, string>;
  /** Run trusted documents only, on every transport, and register nothing. @default false */
  only?: boolean;
  /** Automatic persisted queries (ignored with `only`). @default true */
  apq?: boolean;
  /** Most APQ documents kept. @default 1000 */
  apqMaxEntries?: number;
  /** Most bytes of APQ documents kept (ids and texts as UTF-16, 2 bytes a character). @default 8 MiB */
  apqMaxBytes?: number;
}

const notFound = () =>
  // The message is what Apollo Client's persisted-queries link matches on to send the text again.
  createGraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 404 } } });

const onlyTrusted = () =>
  createGraphQLError('This gateway runs trusted documents only: send the id of a persisted document in extensions.persistedQuery.sha256Hash, not a query', {
    extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
  });

const noDocument = () =>
  createGraphQLError('Send a query, or the id of a persisted document in extensions.persistedQuery.sha256Hash', {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });

/** The bounded APQ store the plugin reads and writes (`get`/`set`, as `@graphql-yoga/plugin-apq` expects). */
export function createAPQStore(maxEntries: number, maxBytes: number): LRUCache<string, string> {
  // A document larger than the whole budget is not kept (lru-cache refuses it); it still runs.
  return new LRUCache<string, string>({ max: maxEntries, maxSize: maxBytes, sizeCalculation: (text, hash) => 2 * (text.length + hash.length) });
}

export function usePersistedDocuments(options: PersistedDocumentsOptions): Plugin {
  const { trusted, only = false, apq = true, apqMaxEntries = 1000, apqMaxBytes = 8 * 1024 * 1024 } = options;
  if (only && !trusted) throw new Error('usePersistedDocuments: `only` needs the trusted documents');
  const store = apq && !only ? createAPQStore(apqMaxEntries, apqMaxBytes) : undefined;
  const trustedIds =
    trusted &&
    usePersistedOperations({
      allowArbitraryOperations: !only,
      // A hash found in neither is PERSISTED_QUERY_NOT_FOUND; APQ (below) registers it when the text comes.
      getPersistedOperation: (id) => trusted.get(id) ?? store?.get(id) ?? null,
      customErrors: { notFound, persistedQueryOnly: onlyTrusted, keyNotFound: only ? onlyTrusted : noDocument },
    }).onParams!;
  const registration = store && useAPQ({ store }).onParams!;
  const texts = only ? new Set(trusted!.values()) : undefined;
  return {
    // One hook, so that APQ only ever sees what the client sent: a text the trusted map supplied is
    // not the client's, and its id (client-preset's `sha256:<hex>`) need not be its APQ hash.
    ...((trustedIds || registration) && {
      onParams(payload) {
        // Most requests send a text and no hash: nothing to look up or register, and no promise to wait on.
        if (!only && payload.params.query && payload.params.extensions?.persistedQuery == null) return;
        return lookUpOrRegister(payload);
      },
    }),
    ...(texts && {
      onParse({ params }) {
        if (!texts.has(typeof params.source === 'string' ? params.source : params.source.body)) throw onlyTrusted();
      },
    }),
  };

  async function lookUpOrRegister(payload: Parameters<NonNullable<Plugin['onParams']>>[0]): Promise<void> {
    let params = payload.params;
    const sentText = Boolean(params.query);
    const setParams = (next: typeof params) => {
      params = next;
      payload.setParams(next);
    };
    if (trustedIds) await trustedIds({ ...payload, setParams });
    // Without trusted documents, APQ also answers a hash alone (its own store lookup).
    if (registration && (sentText || !trustedIds)) await registration({ ...payload, params, setParams });
  }
}
