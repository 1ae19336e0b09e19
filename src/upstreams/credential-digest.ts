/**
 * A one-way digest of a credential, for keys of caches shared across requests: a cache keyed by it
 * never holds the credential itself, and never serves one credential what another fetched.
 */
import { createHash } from 'node:crypto';
import type { Credential } from '../model.js';

export function credentialDigest(credential: Credential | undefined): string {
  if (!credential) return 'anonymous';
  return createHash('sha256').update(`${credential.in ?? 'header'}\0${credential.name}\0${credential.value}`).digest('base64url');
}
