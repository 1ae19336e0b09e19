/**
 * Structured JSON logs (pino). A credential never reaches a log line: the headers and query
 * parameters that carry one are redacted wherever they appear, and logs name requests by id.
 */
import { pino, type Logger } from 'pino';
import { KINDS } from './upstreams/kinds/index.js';

export type { Logger } from 'pino';

/** Where credentials travel: every kind's credential headers (its descriptor's `secretHeaders`), and cookies. */
export const CREDENTIAL_HEADERS = [...new Set([...Object.values(KINDS).flatMap((kind) => kind.secretHeaders), 'cookie'])];
/** Query parameters that carry a credential, as the upstreams read them (after decoding, any case). */
const CREDENTIAL_PARAMS = new Set(Object.values(KINDS).flatMap((kind) => kind.secretParams));
/** Rack and PHP read `name[]` and `name[key]` as `name`. */
const BRACKETS = /(?:\[[^\]]*\])+$/;

/** A parameter name as a server would read it: percent-decoded (twice-encoded too), `+` as space, brackets dropped, lower case. */
function parameterName(raw: string): string {
  let name = raw.replace(/\+/g, ' ');
  for (let i = 0; i < 3 && name.includes('%'); i++) {
    // Lenient: a stray `%` must not keep the rest of the name from being decoded.
    const decoded = name.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (decoded === name) break;
    name = decoded;
  }
  return name.trim().replace(BRACKETS, '').toLowerCase();
}

/**
 * A URL or path with the values of credential query parameters replaced by `[Redacted]`. Names are
 * matched as the upstream would read them, so `%70rivate_token`, `private%5Ftoken`, `PRIVATE_TOKEN`
 * and `private_token[]` are all caught; the rest of the URL is kept as sent.
 */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark === -1) return url;
  const hash = url.indexOf('#', mark);
  const query = url.slice(mark + 1, hash === -1 ? undefined : hash);
  const redacted = query
    .split(/([&;])/)
    .map((part) => {
      const equals = part.indexOf('=');
      if (equals === -1 || !CREDENTIAL_PARAMS.has(parameterName(part.slice(0, equals)))) return part;
      return `${part.slice(0, equals)}=[Redacted]`;
    })
    .join('');
  return `${url.slice(0, mark + 1)}${redacted}${hash === -1 ? '' : url.slice(hash)}`;
}

export interface LoggerOptions {
  /** pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. @default 'info' */
  level: string;
  /** Where lines go. @default stdout */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ level, destination }: LoggerOptions): Logger {
  const paths = CREDENTIAL_HEADERS.flatMap((header) => [`headers["${header}"]`, `*.headers["${header}"]`, `credential`, `*.credential`]);
  return pino(
    {
      level,
      base: { service: 'buildgate' },
      redact: { paths: [...new Set(paths)], censor: '[Redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination as never,
  );
}
