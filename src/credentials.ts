/**
 * The one check every client credential passes, whichever transport brought it (an HTTP header, or
 * graphql-ws `connectionParams`): printable ASCII and at most `MAX_CREDENTIAL_LENGTH` characters. A
 * value that fails is refused before any upstream request, so it can neither reach an upstream (a 100 KB
 * token) nor make undici refuse to build the request (a control byte), which would look like an
 * upstream fault. The value itself never appears in an error or a log line.
 */
import { BuildgateError } from './errors.js';

/** Longer than any GitLab token, bearer JWT or bk-ci header in use, far below an upstream's header limit. */
export const MAX_CREDENTIAL_LENGTH = 4096;

/** Where a client may put a credential (lower case, as `Headers` keys are). */
export const CLIENT_CREDENTIAL_HEADERS = ['private-token', 'authorization', 'x-bkapi-authorization', 'x-devops-uid'] as const;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Why a credential value is refused, or undefined when it may be used. Never echoes the value. */
export function credentialProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  if (value.length > MAX_CREDENTIAL_LENGTH) return `is longer than ${MAX_CREDENTIAL_LENGTH} characters`;
  if (!PRINTABLE_ASCII.test(value)) return 'contains characters other than printable ASCII';
  return undefined;
}

/** Is `name` (any case) a header a client credential travels in? */
export function isCredentialHeader(name: string): boolean {
  return (CLIENT_CREDENTIAL_HEADERS as readonly string[]).includes(name.toLowerCase());
}

/** The value when it may be used; UNAUTHENTICATED (naming the header, not the value) when not. */
export function checkedCredential(header: string, value: string): string {
  const problem = credentialProblem(value);
  if (problem) throw new BuildgateError('UNAUTHENTICATED', `the ${header} credential ${problem}`, { extensions: { header } });
  return value;
}
