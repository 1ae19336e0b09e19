/**
 * `Build.logSearch`: the first matching lines of a build's log, with context lines and sections, found
 * in one streamed pass (log-lines.ts). A client's pattern only ever reaches indexOf (literal) or RE2JS
 * (regex), whose automata match in time linear in the line: JavaScript's backtracking RegExp never
 * sees it, so `(a+)+$` costs what `a` does.
 */
import { RE2JS } from 're2js';
import { badUserInput } from '../errors.js';
import { type LogLine, type ScanLimits, type ScanOutcome, cutForResult, scanLog } from './log-lines.js';
import type { BuildModel } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';

export const MAX_PATTERN_LENGTH = 1000;
export const MAX_CONTEXT = 10;

export interface SearchOptions {
  pattern: string;
  regex: boolean;
  caseSensitive: boolean;
  context: number;
  first: number;
}

export interface LogMatchModel {
  lineNumber: number;
  offset: number;
  line: string;
  column: number;
  length: number;
  before: string[];
  after: string[];
  section: string | null;
  sectionPath: string[];
}

export interface LogSearchModel extends Omit<ScanOutcome, 'truncatedBy'> {
  matches: LogMatchModel[];
  truncated: boolean;
  truncatedBy: string | null;
}

/** Where a line matches: [column, length], or undefined. */
export type LineMatcher = (line: string) => readonly [number, number] | undefined;

/** The matcher for a client's pattern; BAD_USER_INPUT for one that is empty, too long or not RE2. */
export function compileMatcher(options: Pick<SearchOptions, 'pattern' | 'regex' | 'caseSensitive'>): LineMatcher {
  const { pattern, regex, caseSensitive } = options;
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    throw badUserInput(`\`pattern\` must be 1 to ${MAX_PATTERN_LENGTH} characters`, { argument: 'pattern', max: MAX_PATTERN_LENGTH });
  }
  if (!regex) {
    if (caseSensitive) {
      return (line) => {
        const at = line.indexOf(pattern);
        return at === -1 ? undefined : [at, pattern.length];
      };
    }
    const needle = pattern.toLowerCase();
    return (line) => {
      const at = line.toLowerCase().indexOf(needle);
      return at === -1 ? undefined : [at, needle.length];
    };
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    throw badUserInput(`\`pattern\` is not an RE2 regular expression: ${(error as Error).message}`.slice(0, 300), { argument: 'pattern' });
  }
  return (line) => {
    // The DFA answers whether; only a matching line pays for where.
    if (!compiled.test(line)) return undefined;
    const matcher = compiled.matcher(line);
    return matcher.find() ? [matcher.start(), matcher.end() - matcher.start()] : [0, 0];
  };
}

export function checkSearchOptions(options: SearchOptions): LineMatcher {
  if (!Number.isInteger(options.context) || options.context < 0 || options.context > MAX_CONTEXT) {
    throw badUserInput(`\`context\` must be 0 to ${MAX_CONTEXT}`, { argument: 'context', max: MAX_CONTEXT });
  }
  return compileMatcher(options);
}

interface Pending {
  match: LogMatchModel;
  /** `after` lines still wanted. */
  wanted: number;
}

export async function searchLog(
  adapter: Upstream,
  call: CallContext,
  build: BuildModel,
  limits: ScanLimits,
  options: SearchOptions,
  matcher: LineMatcher,
): Promise<LogSearchModel> {
  const { context, first } = options;
  const matches: LogMatchModel[] = [];
  // The last `context` lines, oldest first: the `before` of a match.
  const recent: string[] = [];
  const pending: Pending[] = [];

  const visit = (line: LogLine): boolean => {
    const text = cutForResult(line.plain);
    for (const open of pending) {
      open.match.after.push(text);
      open.wanted -= 1;
    }
    while (pending.length > 0 && pending[0]!.wanted === 0) pending.shift();
    if (matches.length < first) {
      const found = matcher(line.plain);
      if (found) {
        const match: LogMatchModel = {
          lineNumber: line.lineNumber,
          offset: line.offset,
          line: text,
          column: found[0],
          length: found[1],
          before: [...recent],
          after: [],
          section: line.sections.at(-1) ?? null,
          sectionPath: [...line.sections],
        };
        matches.push(match);
        if (context > 0) pending.push({ match, wanted: context });
      }
    }
    if (context > 0) {
      recent.push(text);
      if (recent.length > context) recent.shift();
    }
    // Done once the last match has its lines after it.
    return matches.length < first || pending.length > 0;
  };

  const outcome = await scanLog(adapter, call, build, limits, visit);
  const stoppedShort = outcome.truncatedBy !== undefined && matches.length < first;
  return {
    matches,
    scannedBytes: outcome.scannedBytes,
    endReached: outcome.endReached,
    truncated: stoppedShort,
    truncatedBy: stoppedShort ? outcome.truncatedBy! : null,
  };
}
