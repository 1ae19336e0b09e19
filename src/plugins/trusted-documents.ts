/**
 * Reads the trusted documents of `persistedOperations.file`: the JSON map graphql-codegen's
 * client-preset writes with `persistedDocuments: true` (`{ "<hash>": "query … { … }" }`). It is read
 * once at start-up and every document is parsed then, so a broken file stops the gateway from starting
 * instead of failing one request at a time. Documents are not validated against the schema here:
 * each request validates them (with the gateway's limits and cost rules), as any other document.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';

/** An id as a client sends it in `extensions.persistedQuery.sha256Hash`: a hash, perhaps prefixed (`sha256:…`). */
const ID_SHAPE = /^[A-Za-z0-9_:.+/=-]{1,256}$/;

export class TrustedDocumentsError extends Error {
  override readonly name = 'TrustedDocumentsError';
}

/**
 * client-preset names its hashes `sha256:<hex>`, while Apollo's `sha256Hash` is the bare hex: such an
 * id is found under both.
 */
const PREFIXED_SHA256 = /^sha256:([0-9a-f]{64})$/;

/** id → document text. Throws `TrustedDocumentsError` naming the file and the bad entry. */
export function loadTrustedDocuments(path: string): ReadonlyMap<string, string> {
  const where = `persistedOperations.file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TrustedDocumentsError(`${where}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TrustedDocumentsError(`${where}: not JSON (${(error as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new TrustedDocumentsError(`${where}: must hold an object of id → document`);
  const documents = new Map<string, string>();
  for (const [id, document] of Object.entries(json)) {
    if (!ID_SHAPE.test(id)) throw new TrustedDocumentsError(`${where}: id ${JSON.stringify(id.slice(0, 80))} is not a hash (1-256 letters, digits or "_:.+/=-")`);
    if (typeof document !== 'string' || document.trim() === '') throw new TrustedDocumentsError(`${where}: "${id}" must be a document's text`);
    try {
      parse(document, { noLocation: true });
    } catch (error) {
      throw new TrustedDocumentsError(`${where}: "${id}" does not parse (${(error as Error).message})`);
    }
    documents.set(id, document);
    const hex = PREFIXED_SHA256.exec(id)?.[1];
    if (hex) documents.set(hex, document);
  }
  return documents;
}
