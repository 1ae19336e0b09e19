/**
 * What a job's artifacts archive holds when a client downloads it (v3 and v4 alike), and which job a
 * download by ref means. The store only records that an archive exists and its size (`Artifact`), so
 * the bytes are synthesised on demand like logs are: a small, valid zip with `build/<job name>.txt`,
 * padded to exactly the size the job entity advertises (`artifacts_file.size`), so a client that
 * checks Content-Length against it finds them equal.
 */
import type { Artifact, Job, Project } from './model.js';
import { storedEntryOverhead, zip } from './zip.js';
import type { ZipEntry } from './zip.js';

export function archiveOf(job: Job): Artifact | undefined {
  return job.artifacts.find((a) => a.fileType === 'archive');
}

/** Deterministic filler: numbered lines of "output", cut to exactly `bytes` (ASCII, so bytes = chars). */
function filler(job: Job, bytes: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 1; length < bytes; i++) {
    const line = `${job.name} output ${String(i).padStart(5, '0')}: ok\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('').slice(0, bytes), 'latin1');
}

/**
 * The archive's bytes: a deflated summary of the job, plus a stored `build/output.log` sized so the
 * whole zip is `archive.size` bytes (left out when the size is too small to reach exactly).
 * Built per request: well under a millisecond for the sizes the generator records (≤ 91 KB).
 */
export function archiveBytes(job: Job, archive: Artifact): Buffer {
  const modifiedAt = job.finishedAt ?? job.createdAt;
  const summary: ZipEntry = {
    name: `build/${job.name}.txt`,
    deflate: true,
    modifiedAt,
    data: Buffer.from(
      [
        `job ${job.id} (${job.name}), stage ${job.stage}, ${job.status}`,
        `pipeline ${job.pipeline.id}, ref ${job.pipeline.ref}, commit ${job.pipeline.commit.sha}`,
        `project ${job.project.fullPath}`,
        '',
      ].join('\n'),
      'utf8',
    ),
  };
  const base = zip([summary]);
  const paddingName = 'build/output.log';
  const room = archive.size - base.length - storedEntryOverhead(paddingName);
  // `base` already holds the end record; a stored entry adds its two headers and its data, no more.
  if (room < 0) return base;
  return zip([summary, { name: paddingName, modifiedAt, data: filler(job, room) }]);
}

/**
 * The job a download by ref serves: the newest successful build named `name` on `ref` (branch or tag).
 * A deliberate simplification: GitLab 9.x first took the latest successful *pipeline* of the ref and
 * then its build of that name (`latest_successful_builds_for`); here any successful build counts, so
 * a ref whose pipelines failed elsewhere still has downloadable artifacts. Its archive may be absent.
 */
export function latestSuccessful(project: Project, ref: string, name: string): Job | undefined {
  const builds = project.builds;
  for (let i = builds.length - 1; i >= 0; i--) {
    const job = builds[i] as Job;
    if (job.status === 'success' && job.name === name && job.pipeline.ref === ref) return job;
  }
  return undefined;
}
