/**
 * bk-ci build logs. A build records only segments (which step wrote which line numbers in which
 * attempt); the text of each line is rebuilt from the seed when asked, so a few thousand old builds
 * cost a few numbers per step, and a line reads the same on every request. Line numbers are allocated
 * per build, monotonic across jobs, steps and attempts, exactly as bk-ci's log index does (`getAndAddLineNum`), and
 * filters (`executeCount`, `tag`, job) apply on top, which leaves gaps in a filtered `lineNo` sequence.
 * The text mimics a bk-ci agent: Chinese and English, ✓/✗ marks and ANSI colours.
 */
import { Prng, hash32 } from '../prng.js';
import type { BkBuild, ContainerSpec, ElementRun, ElementSpec, LogSegment, SegmentKind } from './model.js';

const ESC = '\u001b';
const BOLD = `${ESC}[1m`;
const RESET = `${ESC}[0m`;
const GREEN = `${ESC}[32m`;
const RED = `${ESC}[31m`;
const YELLOW = `${ESC}[33m`;
const CYAN = `${ESC}[36m`;

/** Lines of a step's tail by outcome; the body is whatever the step wrote before it. */
export const TAIL_LINES: Readonly<Record<Exclude<SegmentKind, 'head' | 'body'>, number>> = { ok: 1, fail: 2, cancel: 1 };

/** Allocates the next `count` line numbers of the build to one step's output. */
export function appendLines(
  build: BkBuild,
  container: ContainerSpec,
  element: ElementRun,
  kind: SegmentKind,
  count: number,
  now: number,
  step = 1,
): void {
  if (count <= 0) return;
  build.log.push({
    start: build.nextLine,
    count,
    kind,
    executeCount: element.executeCount,
    element: element.spec,
    container,
    from: kind === 'body' ? element.emitted : 0,
    ts: now,
    step,
  });
  build.nextLine += count;
}

// ---------------------------------------------------------------------------------------------------
// Text

const MODULES = ['core', 'api', 'scheduler', 'log-service', '网关', 'dispatch', 'store', 'ws-bridge'];
const SUBJECTS = ['BuildService', 'PipelineTrigger', '日志分页', 'RetryPolicy', '用户权限', 'ArtifactUploader', 'StageReview'];
const VERBS = [
  'returns the expected status',
  '处理 UTF-8 输出 ✓',
  'keeps lineNo monotonic',
  '重试后 executeCount 加一',
  'pages with hasMore',
  'rejects a running retry',
];
const WARNINGS = ['deprecated API usage in scheduler/queue.ts', '依赖 lodash@4.17.20 存在已知漏洞，建议升级', 'test took longer than 2s'];

/** A stable 32-bit number for an id string, so line streams do not depend on generation order. */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function bodyLine(seed: number, build: BkBuild, element: ElementSpec, executeCount: number, index: number): string {
  const rng = new Prng(hash32(seed, build.serial, idHash(element.id), executeCount, index));
  const material = build.material[0];
  const sha = material ? material.newCommitId.slice(0, 8) : '00000000';
  switch (element.atomCode) {
    case 'checkout':
      if (index === 0) return `git clone ${build.pipeline.repo.url} --branch ${build.branch} --depth 50`;
      if (index === 1) return `Cloning into '/data/devops/workspace'...`;
      if (index === 2) return `HEAD is now at ${sha} ${material?.newCommitComment ?? ''}`;
      return `Receiving objects: ${rng.int(1, 100)}% (${rng.int(10, 900)}/${rng.int(900, 2000)}), ${rng.int(10, 999)} KiB | 1.${rng.int(0, 9)} MiB/s`;
    case 'uploadArtifact':
      if (index === 0) return `归档构件: dist/${build.pipeline.pipelineId}-${build.buildNum}.tar.gz`;
      return `上传中 … ${rng.int(1, 100)}% (${rng.int(1, 80)}.${rng.int(0, 9)} MB) → bk-repo/pipeline/${build.id}`;
    default:
      if (index === 0) return `${CYAN}+ ${element.script ?? element.name}${RESET}`;
      switch (rng.int(0, 5)) {
        case 0:
          return `[INFO] 编译模块 ${rng.pick(MODULES)} (${rng.int(1, 12)}/12) … 完成 (${rng.int(1, 900)} ms)`;
        case 1:
          return `${YELLOW}[WARN]${RESET} ${rng.pick(WARNINGS)}`;
        case 2:
          return `→ 进度 ${rng.int(1, 99)}% · step ${index + 1} of ${element.name}`;
        default:
          return `  ${GREEN}✓${RESET} ${rng.pick(SUBJECTS)} ${rng.pick(VERBS)} (0.${String(rng.int(1, 999)).padStart(3, '0')}s)`;
      }
  }
}

function lineText(seed: number, build: BkBuild, segment: LogSegment, offset: number): string {
  const { element } = segment;
  switch (segment.kind) {
    case 'head':
      return `${BOLD}[${element.name}]${RESET} 开始执行 ${element.atomCode}@${element.version} (executeCount=${segment.executeCount})`;
    case 'body':
      return bodyLine(seed, build, element, segment.executeCount, segment.from + offset);
    case 'ok':
      return `${GREEN}✓ [${element.name}] 执行成功 · exit code 0${RESET}`;
    case 'fail':
      return offset === 0
        ? `${RED}✗ 2 个测试用例失败: spec/日志_spec.ts:42 expected 200, got 500${RESET}`
        : `${RED}[${element.name}] 插件执行失败 (exit code 1)${RESET}`;
    case 'cancel':
      return `${YELLOW}⚠ [${element.name}] 构建已被取消 (canceled)${RESET}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Queries

/** bk-ci's `LogLine` (common-log `LogLine.kt`). */
export interface LogLineJson {
  readonly lineNo: number;
  readonly timestamp: number;
  readonly message: string;
  /** Always 40: the ES implementation writes no other priority. */
  readonly priority: 40;
  readonly tag: string;
  readonly subTag: string;
  readonly jobId: string;
  readonly executeCount: number;
  readonly containerHashId: string;
  readonly stepId: string | null;
}

export interface LogFilter {
  readonly executeCount: number;
  /** Element id (`e-…`). */
  readonly tag?: string | undefined;
  /** Container hash id (`c-…`), from `jobId` or `containerHashId`. */
  readonly job?: string | undefined;
}

export interface LogSlice {
  readonly lines: LogLineJson[];
  /** Lines matching the filter in the asked range, returned or not (for `hasMore`). */
  readonly total: number;
}

function matches(segment: LogSegment, filter: LogFilter): boolean {
  if (segment.executeCount !== filter.executeCount) return false;
  if (filter.tag !== undefined && segment.element.id !== filter.tag) return false;
  if (filter.job !== undefined && segment.container.hashId !== filter.job) return false;
  return true;
}

/**
 * Lines with `from <= lineNo <= to` that match the filter, in line order: the first `limit` of them, or
 * with `fromEnd` the last `limit` (still ascending). Walks segments, never materialises unused lines.
 */
export function readLines(seed: number, build: BkBuild, filter: LogFilter, from: number, to: number, limit: number, fromEnd = false): LogSlice {
  const ranges: { segment: LogSegment; lo: number; hi: number }[] = [];
  let total = 0;
  for (const segment of build.log) {
    const last = segment.start + segment.count - 1;
    if (last < from || segment.start > to || !matches(segment, filter)) continue;
    const lo = Math.max(from, segment.start);
    const hi = Math.min(to, last);
    ranges.push({ segment, lo, hi });
    total += hi - lo + 1;
  }
  let skip = fromEnd ? Math.max(0, total - limit) : 0;
  const lines: LogLineJson[] = [];
  for (const { segment, lo, hi } of ranges) {
    for (let lineNo = lo; lineNo <= hi && lines.length < limit; lineNo++) {
      if (skip > 0) {
        skip--;
        continue;
      }
      const offset = lineNo - segment.start;
      lines.push({
        lineNo,
        timestamp: segment.ts + offset * segment.step,
        message: lineText(seed, build, segment, offset),
        priority: 40,
        tag: segment.element.id,
        subTag: '',
        jobId: segment.container.hashId,
        executeCount: segment.executeCount,
        containerHashId: segment.container.hashId,
        stepId: null,
      });
    }
    if (lines.length >= limit) break;
  }
  return { lines, total };
}

/** The highest line number written so far (0 when the build has no log yet). */
export function lastLineNo(build: BkBuild): number {
  return build.nextLine - 1;
}
