/**
 * `Build.failure`: the line of a failed build's log that explains why it failed, found in one streamed
 * pass (log-lines.ts) with the heuristic the schema describes (schema/log.graphql): signature lines in
 * the failed section first, then anywhere, then the failed section's last line, then the runner's
 * closing `ERROR: Job failed` line. Only a handful of candidate lines is ever kept.
 */
import { type LogLine, type ScanLimits, cutForResult, scanLog } from './log-lines.js';
import type { BuildModel } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';

export interface BuildFailureModel {
  line: string | null;
  offset: number | null;
  lineNumber: number | null;
  section: string | null;
  reason: string | null;
  exitCode: number | null;
  signature: string | null;
  truncated: boolean;
}

/** Fixed expressions of ours (never a client's), each named as `signature` reports it. */
const SIGNATURES: ReadonlyArray<readonly [string, RegExp]> = [
  ['Traceback', /\bTraceback \(most recent call last\)/],
  ['npm ERR!', /\bnpm ERR!/],
  ['ERROR:', /\bERROR:/],
  ['error:', /\berror(?:\[[A-Za-z0-9]+\])?:/],
  ['FAILED', /\bFAILED\b/],
  ['exit code N', /\bexit (?:code|status) [1-9]\d*\b/i],
  ['N failures', /\b[1-9]\d* (?:failures?|failed|errors?)\b/],
];

/** gitlab-runner's closing line of a failed job. */
const RUNNER_FAILED = /^ERROR: Job failed(?::|\b)/;
const EXIT_CODE = /\bexit (?:code|status) (\d{1,5})\b/i;

/** Sections gitlab-runner opens itself around the job's own script: never "the failed section". */
const RUNNER_SECTIONS = /^(?:prepare_executor|prepare_script|get_sources|clear_worktree|restore_cache|download_artifacts|after_script|archive_cache(?:_on_failure)?|upload_artifacts_on_(?:success|failure)|cleanup_file_variables|resolve_secrets|step_release|upload_artifacts)$/;

/** Every signature at once: most lines have none, and pay one test instead of seven. */
const ANY_SIGNATURE = new RegExp(SIGNATURES.map(([, expression]) => expression.source).join('|'), 'i');

export function signatureOf(text: string): string | undefined {
  if (!ANY_SIGNATURE.test(text)) return undefined;
  for (const [name, expression] of SIGNATURES) if (expression.test(text)) return name;
  return undefined;
}

interface Candidate {
  line: string;
  offset: number;
  lineNumber: number;
  section: string | null;
  signature: string | null;
}

const candidate = (line: LogLine, signature: string | null): Candidate => ({
  line: cutForResult(line.plain),
  offset: line.offset,
  lineNumber: line.lineNumber,
  section: line.sections.at(-1) ?? null,
  signature,
});

/** The outermost section of the line that is the job's own (not the runner's), or undefined. */
const scriptSection = (sections: readonly string[]): number => sections.findIndex((name) => !RUNNER_SECTIONS.test(name));

export async function findFailure(adapter: Upstream, call: CallContext, build: BuildModel, limits: ScanLimits): Promise<BuildFailureModel> {
  /** The job's own section instance being read: a new one starts when such a section opens at the top. */
  let current: { inSection: Candidate | undefined; last: Candidate | undefined; depth: number } | undefined;
  let failedSection: typeof current;
  let anywhere: Candidate | undefined;
  let runnerLine: Candidate | undefined;
  let exitCode: number | null = null;
  let wasInScript = false;

  const visit = (line: LogLine): boolean => {
    const at = scriptSection(line.sections);
    const inScript = at >= 0;
    if (inScript && (!wasInScript || current?.depth !== at)) {
      current = { inSection: undefined, last: undefined, depth: at };
      failedSection = current;
    }
    wasInScript = inScript;
    const text = line.plain.trim();
    if (text === '') return true;
    if (RUNNER_FAILED.test(text)) {
      runnerLine ??= candidate(line, 'ERROR:');
      const code = EXIT_CODE.exec(text);
      if (code) exitCode = Number(code[1]);
      return true;
    }
    const signature = signatureOf(text);
    if (inScript && current) {
      current.last = candidate(line, 'last line of section');
      if (signature) current.inSection ??= candidate(line, signature);
    }
    if (signature) anywhere ??= candidate(line, signature);
    return true;
  };

  const outcome = await scanLog(adapter, call, build, limits, visit);
  const chosen = failedSection?.inSection ?? anywhere ?? failedSection?.last ?? runnerLine;
  return {
    line: chosen?.line ?? null,
    offset: chosen?.offset ?? null,
    lineNumber: chosen?.lineNumber ?? null,
    section: chosen?.section ?? null,
    reason: build.failureReason,
    exitCode,
    signature: chosen?.signature ?? null,
    truncated: outcome.truncatedBy !== undefined,
  };
}
