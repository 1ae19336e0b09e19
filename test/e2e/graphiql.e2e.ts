/**
 * GraphiQL in a real browser, as a newcomer meets it after `npm start`: the compiled CLI with its
 * embedded simulator, Debian's Chromium driven by playwright-core. The preloaded query runs and shows
 * builds; the Tail tab's subscription shows a running build's log as it arrives; nothing is fetched
 * from anywhere but the gateway itself.
 *
 * Needs /usr/bin/chromium (Debian: `apt-get install -y chromium`); without it this suite fails, it does
 * not skip. Run with `npm run test:e2e`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');
const CHROMIUM = '/usr/bin/chromium';
const RESULTS = join(ROOT, 'test-results');
const SCREENSHOT = join(RESULTS, 'graphiql.png');
const SUBSCRIPTION_SCREENSHOT = join(RESULTS, 'graphiql-subscription.png');

/** As root on a machine with no outside network: no sandbox, no GPU, and none of Chromium's own traffic. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let child: ChildProcess | undefined;
let stdout = '';
let url: string;
let simulatorUrl: string;
let userDataDir: string | undefined;
let context: BrowserContext | undefined;
let page: Page;
/** Every URL the browser asked for (pages, workers, WebSockets). */
const requested: string[] = [];

async function waitForLine(pattern: RegExp): Promise<RegExpMatchArray> {
  for (;;) {
    const match = stdout.match(pattern);
    if (match) return match;
    if (child!.exitCode !== null) throw new Error(`buildgate exited early:\n${stdout}`);
    await once(child!.stdout!, 'data');
  }
}

/** Waits until a GraphiQL section (by its aria-label) shows `text`. */
async function waitForText(section: string, text: string, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    ([label, wanted]) => (document.querySelector(`section[aria-label="${label}"]`) as HTMLElement | null)?.innerText.replace(/\u00a0/g, ' ').includes(wanted!) ?? false,
    [section, text],
    { timeout },
  );
}

/** The result pane as a person reads it (Monaco renders spaces as no-break spaces). */
async function resultText(): Promise<string> {
  return (await page.locator('section[aria-label="Result Window"]').innerText()).replace(/\u00a0/g, ' ');
}

async function gateway<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const result = (await response.json()) as { data?: T; errors?: unknown[] };
  expect(result.errors).toBeUndefined();
  return result.data!;
}

function isLocal(address: string): boolean {
  if (address.startsWith('data:')) return true;
  const inner = address.startsWith('blob:') ? address.slice('blob:'.length) : address;
  try {
    const { protocol, hostname } = new URL(inner);
    return ['http:', 'https:', 'ws:', 'wss:'].includes(protocol) && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found. This test drives Debian's Chromium: apt-get update && apt-get install -y chromium (it does not skip without it).`);
  }
  if (!existsSync(MAIN)) throw new Error(`${MAIN} not found: run "npm run build" first (npm run test:e2e does)`);

  // `npm start` without its build step: the compiled CLI, embedded simulator, a free port.
  child = spawn(process.execPath, [MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  simulatorUrl = (await waitForLine(/embedded simulator \(GitLab, bk-ci\) at (http:\S+)/))[1]!;
  url = (await waitForLine(/GraphiQL at (http:\S+)/))[1]!;

  // Playwright refuses --user-data-dir in `args`; a persistent context on a new empty folder is the same thing.
  userDataDir = mkdtempSync(join(tmpdir(), 'buildgate-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  context.on('request', (request) => requested.push(request.url()));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('websocket', (socket) => requested.push(socket.url()));
  await page.goto(url);
  await page.locator('.graphiql-execute-button').waitFor({ timeout: 30_000 });
  await waitForText('Operation Editor', 'query RecentBuilds');
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (child && child.exitCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
});

describe('GraphiQL in Chromium', () => {
  it('runs the preloaded query and shows its builds in the result pane', async () => {
    const answered = page.waitForResponse((response) => response.url() === url && response.request().method() === 'POST' && /RecentBuilds/.test(response.request().postData() ?? ''));
    await page.locator('.graphiql-execute-button').click();
    const result = (await (await answered).json()) as { data: { project: { builds: { nodes: Array<{ name: string; status: string }> } } }; errors?: unknown };
    expect(result.errors).toBeUndefined();
    const nodes = result.data.project.builds.nodes;
    expect(nodes).toHaveLength(10);

    await expect.poll(resultText, { timeout: 15_000 }).toContain('"builds"');
    const text = await resultText();
    expect(text).toContain(`"name": ${JSON.stringify(nodes[0]!.name)}`);
    expect(text).toContain(`"status": ${JSON.stringify(nodes[0]!.status)}`);
    expect(text).not.toContain('"errors"');

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('the Tail tab, as preloaded, follows the build that runs since start-up: lines arrive live', async () => {
    // 150 ms a tick, so the live build's log grows quickly (it still runs for hours).
    const configured = await fetch(`${simulatorUrl}/__sim/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickMs: 150 }) });
    expect(configured.status).toBe(200);
    const data = await gateway('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 20) { nodes { id name } } } }');
    const live = data.project.builds.nodes.find((node: { name: string }) => node.name === 'demo:live-log');
    expect(live, 'the embedded live build').toBeDefined();

    await page.locator('.graphiql-tab', { hasText: 'Tail' }).click();
    await waitForText('Operation Editor', 'subscription Tail');
    await waitForText('Variables', live.id);
    await page.evaluate(() => {
      const pane = document.querySelector('section[aria-label="Result Window"]')!;
      const offsets = new Set<string>();
      (window as unknown as { liveOffsets: Set<string> }).liveOffsets = offsets;
      new MutationObserver(() => {
        for (const match of (pane as HTMLElement).innerText.replace(/\u00a0/g, ' ').matchAll(/"nextOffset": (\d+)/g)) offsets.add(match[1]!);
      }).observe(pane, { subtree: true, childList: true, characterData: true });
    });
    // GraphiQL takes the tab's operation name from its editor a moment after the switch: a click before
    // that runs with the last tab's name ("Cannot infer operation …") and sends nothing, so it is made again.
    for (let attempt = 0; attempt < 10; attempt++) {
      const subscribed = page
        .waitForRequest((request) => request.url().startsWith(url) && /buildTrace/.test(request.url() + (request.postData() ?? '')), { timeout: 3_000 })
        .then(
          () => true,
          () => false,
        );
      await page.locator('.graphiql-execute-button').click();
      if (await subscribed) break;
    }
    await expect.poll(resultText, { timeout: 15_000 }).toMatch(/"lines": \[\s*"/);
    await expect.poll(() => page.evaluate(() => (window as unknown as { liveOffsets: Set<string> }).liveOffsets.size), { timeout: 15_000 }).toBeGreaterThan(2);
    expect(await resultText()).toContain('"complete": false');
    // Stop it (the button stops a running subscription), so the next test starts its own.
    await page.locator('.graphiql-execute-button').click();
  });

  it("runs the Tail tab's subscription on a running build and shows its log lines as they arrive", async () => {
    // The simulator's clock from 1 s to 150 ms a tick, so a build runs for about 3 s, not 20.
    const configured = await fetch(`${simulatorUrl}/__sim/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickMs: 150 }) });
    expect(configured.status).toBe(200);
    let build: { id: string; upstreamId: string } | undefined;
    for (let i = 0; i < 200 && !build; i++) {
      const data = await gateway('{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 5) { nodes { id upstreamId startedAt } } } }');
      build = data.project.builds.nodes.find((node: { startedAt: string | null }) => node.startedAt && Date.now() - Date.parse(node.startedAt) < 300);
      if (!build) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(build, 'a build that has just started').toBeDefined();

    await page.locator('.graphiql-tab', { hasText: 'Tail' }).click();
    await waitForText('Operation Editor', 'subscription Tail');
    // The tab's variables name the long-running live build; point them at one that ends within seconds.
    await page.locator('section[aria-label="Variables"] .graphiql-editor:not(.hidden) .view-lines').click();
    // Clear first: with a selection, Monaco wraps typed brackets and quotes around it.
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify({ id: build!.id }));
    await waitForText('Variables', JSON.stringify({ id: build!.id }));

    // Record every state the result pane shows: each event of the subscription replaces the last.
    await page.evaluate(() => {
      const pane = document.querySelector('section[aria-label="Result Window"]')!;
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        const text = (pane as HTMLElement).innerText.replace(/\u00a0/g, ' ');
        if (seen.at(-1) !== text) seen.push(text);
      }).observe(pane, { subtree: true, childList: true, characterData: true });
    });
    const seen = () => page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    const subscribed = page.waitForRequest((request) => request.url().startsWith(url) && /buildTrace/.test(request.url() + (request.postData() ?? '')));
    await page.locator('.graphiql-execute-button').click();
    expect(decodeURIComponent((await subscribed).url())).toContain(build!.id);

    // Log lines on screen while the build runs.
    await expect.poll(resultText, { timeout: 15_000 }).toMatch(/"lines": \[\s*"/);
    await page.screenshot({ path: SUBSCRIPTION_SCREENSHOT });
    await expect.poll(async () => (await seen()).some((text) => text.includes('"complete": true')), { timeout: 30_000 }).toBe(true);

    const states = await seen();
    const offsets = new Set(states.flatMap((text) => [...text.matchAll(/"nextOffset": (\d+)/g)].map((match) => Number(match[1]))));
    // More than one piece arrived, at growing offsets.
    expect(offsets.size).toBeGreaterThan(1);
    // What the pane showed is the build's own log: its first line, a command line, its middle.
    const final = await gateway('query($id: ID!) { build(id: $id) { status trace { lines complete } } }', { id: build!.id });
    expect(final.build.trace.complete).toBe(true);
    const lines = (final.build.trace.lines as string[]).filter((line) => line.trim() !== '');
    const shown = states.join('\n');
    expect(shown).toContain(JSON.stringify(lines[0]));
    expect(shown).toMatch(/"\$ [^"]+"/);
    // The pane shows only the latest event: two events in one frame show as one state, so the last
    // data piece can be replaced by the final `complete` event before it is drawn. The middle of the
    // log, drawn while the build ran, must be there.
    expect(shown).toContain(JSON.stringify(lines[Math.floor(lines.length / 2)]));
    expect(shown).not.toContain('"errors"');
  });

  it('fetched nothing but the gateway itself (and data:/blob: URLs)', () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((address) => !isLocal(address))).toEqual([]);
  });
});
