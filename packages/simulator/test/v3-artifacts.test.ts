import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { get, post } from './helpers/sim-http.js';
import { readZip } from './helpers/sim-zip.js';

let sim: Simulator;
let scratch: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000 });
  scratch = mkdtempSync(path.join(tmpdir(), 'buildgate-zip-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Download {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

async function download(urlPath: string, token?: string): Promise<Download> {
  const response = await fetch(`${sim.url}${urlPath}`, { headers: token ? { 'PRIVATE-TOKEN': token } : {} });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

const json = (d: Download): unknown => JSON.parse(d.bytes.toString('utf8'));

/** `unzip -l`'s file names, or undefined when no unzip is installed (the EOCD parse still runs). */
function unzipList(bytes: Buffer): string[] | undefined {
  const file = path.join(scratch, `${Math.random().toString(36).slice(2)}.zip`);
  writeFileSync(file, bytes);
  try {
    execFileSync('unzip', ['-t', '-qq', file]);
    const out = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' });
    return out.trim().split('\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const project = () => {
  const found = sim.store.projects.get(1);
  if (!found) throw new Error('no project 1');
  return found;
};
const hasArchive = (j: { artifacts: readonly { fileType: string }[] }): boolean => j.artifacts.some((a) => a.fileType === 'archive');

/** What the by-ref rule must pick, computed independently from the store. */
function latestSuccessful(ref: string, name: string) {
  return project().builds.filter((j) => j.status === 'success' && j.name === name && j.pipeline.ref === ref).sort((a, b) => b.id - a.id)[0];
}

describe('archive by build id', () => {
  it('sends a valid zip on v3 and v4 alike, exactly as large as artifacts_file.size says', async () => {
    const three = await download('/api/v3/projects/1/builds/7/artifacts');
    const four = await download('/api/v4/projects/1/jobs/7/artifacts');
    expect(three.status).toBe(200);
    expect(three.headers.get('content-type')).toBe('application/zip');
    expect(three.headers.get('content-disposition')).toBe('attachment; filename=artifacts.zip');
    expect(four.headers.get('content-type')).toBe('application/zip');
    expect(four.bytes.equals(three.bytes)).toBe(true);
    expect(three.bytes.length).toBe(1000);
    expect(Number(three.headers.get('content-length'))).toBe(1000);

    const files = readZip(three.bytes);
    expect(files.map((f) => f.name)).toEqual(['build/teaspoon.txt', 'build/output.log']);
    expect(files[0]?.method).toBe(8);
    expect(files[0]?.data.toString('utf8')).toContain('job 7 (teaspoon)');
    expect(files[0]?.data.toString('utf8')).toContain('0ff3ae198f8601a285adcf5c0fff204ee6fba5fd');
    const listed = unzipList(three.bytes);
    if (listed) expect(listed).toEqual(['build/teaspoon.txt', 'build/output.log']);
    // The reader does reject a damaged archive.
    const damaged = Buffer.from(three.bytes);
    damaged[60] = (damaged[60] ?? 0) ^ 0xff;
    expect(() => readZip(damaged)).toThrow(/invalid zip|invalid|incorrect/);
  });

  it('matches the advertised size for every build with an archive, and the same job twice gives the same bytes', async () => {
    const withArchive = project().builds.filter(hasArchive).slice(-8);
    expect(withArchive.length).toBeGreaterThan(3);
    for (const job of withArchive) {
      const entity = (await get(sim, `/api/v4/projects/1/jobs/${job.id}`)).body;
      const zip = await download(`/api/v4/projects/1/jobs/${job.id}/artifacts`);
      expect(zip.bytes.length, `job ${job.id}`).toBe(entity.artifacts_file.size);
      expect(readZip(zip.bytes)[0]?.name).toBe(`build/${job.name}.txt`);
    }
    const job = withArchive[0];
    const again = await download(`/api/v3/projects/1/builds/${job?.id}/artifacts`);
    expect(again.bytes.equals((await download(`/api/v4/projects/1/jobs/${job?.id}/artifacts`)).bytes)).toBe(true);
  });

  it('answers 404 Not found without an archive, for an unknown or bridge id, and after erase', async () => {
    for (const urlPath of ['/api/v3/projects/1/builds/6/artifacts', '/api/v4/projects/1/jobs/6/artifacts', '/api/v3/projects/1/builds/999999/artifacts']) {
      const response = await download(urlPath);
      expect(response.status, urlPath).toBe(404);
      expect(json(response)).toEqual({ message: '404 Not found' });
    }
    const bridge = [...sim.store.jobs.values()].find((j) => j.kind === 'bridge' && j.project.id === 1);
    expect((await download(`/api/v4/projects/1/jobs/${bridge?.id}/artifacts`)).status).toBe(404);

    const victim = project().builds.filter((j) => hasArchive(j) && j.status === 'success').at(-1);
    expect((await download(`/api/v3/projects/1/builds/${victim?.id}/artifacts`)).status).toBe(200);
    expect((await post(sim, `/api/v4/projects/1/jobs/${victim?.id}/erase`, 'glpat-developer')).status).toBe(201);
    for (const urlPath of [`/api/v3/projects/1/builds/${victim?.id}/artifacts`, `/api/v4/projects/1/jobs/${victim?.id}/artifacts`]) {
      const gone = await download(urlPath);
      expect(gone.status, urlPath).toBe(404);
      expect(json(gone)).toEqual({ message: '404 Not found' });
    }
  });

  it('follows the project\'s read rules: 401 anonymous and 404 outsider on the private project', async () => {
    const acme = sim.store.projects.get(2)?.builds.find(hasArchive);
    expect((await download(`/api/v4/projects/2/jobs/${acme?.id}/artifacts`)).status).toBe(401);
    expect((await download(`/api/v3/projects/2/builds/${acme?.id}/artifacts`, 'glpat-outsider')).status).toBe(404);
    const member = await download(`/api/v3/projects/acme%2Fprivate/builds/${acme?.id}/artifacts`, 'glpat-reporter');
    expect(member.status).toBe(200);
    expect(readZip(member.bytes).length).toBeGreaterThan(0);
  });
});

describe('archive by ref and job name', () => {
  /** A (ref, name) whose latest successful build has an archive, preferring a ref with a slash. */
  function servable(): { ref: string; name: string; id: number } {
    const candidates = project().builds.filter((j) => j.status === 'success' && hasArchive(j) && latestSuccessful(j.pipeline.ref, j.name)?.id === j.id);
    const pick = candidates.find((j) => j.pipeline.ref.includes('/')) ?? candidates[0];
    if (!pick) throw new Error('no servable ref');
    return { ref: pick.pipeline.ref, name: pick.name, id: pick.id };
  }

  it('serves the latest successful build of that name on that ref, on v3 and v4, with the ref URL-encoded', async () => {
    const { ref, name, id } = servable();
    expect(ref).toContain('/');
    const encoded = encodeURIComponent(ref);
    const three = await download(`/api/v3/projects/1/builds/artifacts/${encoded}/download?job=${encodeURIComponent(name)}`);
    const four = await download(`/api/v4/projects/foo%2Fbar/jobs/artifacts/${encoded}/download?job=${encodeURIComponent(name)}`);
    expect(three.status).toBe(200);
    expect(three.headers.get('content-type')).toBe('application/zip');
    expect(three.headers.get('content-disposition')).toBe('attachment; filename=artifacts.zip');
    expect(four.bytes.equals(three.bytes)).toBe(true);
    expect(three.bytes.equals((await download(`/api/v4/projects/1/jobs/${id}/artifacts`)).bytes)).toBe(true);
    expect(readZip(three.bytes)[0]?.data.toString('utf8')).toContain(`job ${id} (${name})`);
  });

  it('picks a newer successful build once one exists (a retry that succeeds)', async () => {
    const { ref, name, id } = servable();
    const retried = await post(sim, `/api/v4/projects/1/jobs/${id}/retry`, 'glpat-developer');
    expect(retried.status).toBe(201);
    // Still the old one while the retry has not succeeded.
    const url = `/api/v3/projects/1/builds/artifacts/${encodeURIComponent(ref)}/download?job=${encodeURIComponent(name)}`;
    expect(readZip((await download(url)).bytes)[0]?.data.toString('utf8')).toContain(`job ${id} `);
    // Succeed it behind the API, with an archive, as the clock would.
    const copy = sim.store.jobs.get(retried.body.id);
    if (!copy) throw new Error('retry not stored');
    copy.status = 'success';
    copy.finishedAt = Date.now();
    copy.artifacts = [{ fileType: 'archive', size: 2048, filename: 'artifacts.zip', fileFormat: 'zip' }];
    copy.rev++;
    const newer = await download(url);
    expect(newer.bytes.length).toBe(2048);
    expect(readZip(newer.bytes)[0]?.data.toString('utf8')).toContain(`job ${copy.id} `);
  });

  it('answers 404 when the latest successful build has no archive, or none has that name on the ref', async () => {
    const bare = project().builds.find((j) => j.status === 'success' && !hasArchive(j) && latestSuccessful(j.pipeline.ref, j.name)?.id === j.id);
    expect(bare).toBeDefined();
    const urls = [
      `/api/v3/projects/1/builds/artifacts/${encodeURIComponent(bare?.pipeline.ref ?? '')}/download?job=${encodeURIComponent(bare?.name ?? '')}`,
      '/api/v3/projects/1/builds/artifacts/master/download?job=no-such-job',
      '/api/v4/projects/1/jobs/artifacts/no-such-branch/download?job=compile',
    ];
    for (const url of urls) {
      const response = await download(url);
      expect(response.status, url).toBe(404);
      expect(json(response)).toEqual({ message: '404 Not found' });
    }
  });

  it('answers 400 job is missing without ?job=, on both versions', async () => {
    for (const url of ['/api/v3/projects/1/builds/artifacts/master/download', '/api/v4/projects/1/jobs/artifacts/master/download']) {
      const response = await download(url);
      expect(response.status, url).toBe(400);
      expect(json(response)).toEqual({ error: 'job is missing' });
    }
    expect(json(await download('/api/v4/projects/1/jobs/artifacts/master/download?job[]=a'))).toEqual({ error: 'job is invalid' });
  });
});

describe('stats', () => {
  it('counts the artifact route templates of both versions', async () => {
    sim.resetStats();
    await download('/api/v3/projects/1/builds/7/artifacts');
    await download('/api/v4/projects/1/jobs/7/artifacts');
    await download('/api/v3/projects/1/builds/artifacts/master/download?job=compile');
    await download('/api/v4/projects/1/jobs/artifacts/feature%2Flogin-form/download?job=compile');
    await post(sim, '/api/v3/projects/1/builds/7/artifacts/keep');
    expect(sim.stats()).toEqual({
      total: 5,
      routes: {
        'GET /api/v3/projects/:id/builds/:build_id/artifacts': 1,
        'GET /api/v4/projects/:id/jobs/:job_id/artifacts': 1,
        'GET /api/v3/projects/:id/builds/artifacts/:ref_name/download': 1,
        'GET /api/v4/projects/:id/jobs/artifacts/:ref_name/download': 1,
        'POST /api/v3/projects/:id/builds/:build_id/artifacts/keep': 1,
      },
      bytes: expect.any(Object),
      faulted: 0,
    });
  });
});
