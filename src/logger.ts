/**
 * Structured JSON logs (pino). A credential never reaches a log line: the headers and query
 * parameters that carry one are redacted wherever they appear, and logs name requests by id.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Where credentials travel: GitLab's and bk-ci's headers, and the query parameters both accept. */
export const CREDENTIAL_HEADERS = ['private-token', 'authorization', 'x-bkapi-authorization', 'x-devops-uid', 'job-token', 'cookie'];
const CREDENTIAL_PARAMS = /([?&](?:private_token|access_token|job_token)=)[^&#\s]*/gi;

/** A URL or path with credential query parameters replaced by `[Redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(CREDENTIAL_PARAMS, '$1[Redacted]');
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
