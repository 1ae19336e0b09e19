/**
 * GraphiQL's assets and the page that loads them. yoga's renderGraphiQL inlines ~8.6 MB of script, CSS and
 * workers into one page, which then had to be compressed on the first browser's request (brotli 5: ~0.45 s
 * of a ~1.6 s start-up). Here the assets are files that `npm run build` (scripts/build-graphiql-assets.mjs)
 * wrote with their brotli and gzip copies into dist/graphiql-assets/, named by content hash; the page is
 * yoga's template with those files linked instead of inlined: a few KB, rendered per configuration.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { renderGraphiQL } from '@graphql-yoga/render-graphiql';

/** What the page is rendered with (yoga's GraphiQL options). */
export type GraphiQLPageOptions = NonNullable<Parameters<typeof renderGraphiQL>[0]>;

export type Encoding = 'br' | 'gzip';

/** One built file, as manifest.json names it. */
interface AssetEntry {
  name: string;
  type: string;
  /** The compressed copies beside it: `<name>.br`, `<name>.gz`. */
  encodings: Encoding[];
}

export interface GraphiQLAssets {
  readonly dir: string;
  readonly script: AssetEntry;
  readonly style: AssetEntry;
  readonly favicon: AssetEntry;
}

/** dist/graphiql-assets/, from src/ (the tests) and dist/ (the CLI) alike: both sit beside dist/. */
export const GRAPHIQL_ASSET_DIR = fileURLToPath(new URL('../dist/graphiql-assets/', import.meta.url));

const SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

/** The encoding to send for an `Accept-Encoding` header: brotli, then gzip, else none (q=0 refuses). */
export function pickEncoding(acceptEncoding: string | null): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Set<string>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    if (params.some((param) => /^\s*q\s*=\s*0(?:\.0*)?\s*$/.test(param))) continue;
    accepted.add(name.trim());
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return undefined;
}

/**
 * Reads the manifest and checks that every file it names is there: at start-up, so that an incomplete
 * build fails the start, not the first browser. The files themselves are read on first demand.
 */
export function loadGraphiQLAssets(dir = GRAPHIQL_ASSET_DIR): GraphiQLAssets {
  const missing = (why: string) => new Error(`GraphiQL's assets in ${dir} are ${why}; \`npm run build\` writes them (or set graphiql: false)`);
  let manifest: Partial<Record<'script' | 'style' | 'favicon', AssetEntry>>;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch (error) {
    throw missing(`missing or unreadable (${(error as Error).message})`);
  }
  const { script, style, favicon } = manifest;
  if (!script || !style || !favicon) throw missing('incomplete (manifest.json lacks an entry)');
  for (const entry of [script, style, favicon]) {
    for (const file of [entry.name, ...entry.encodings.map((encoding) => entry.name + SUFFIX[encoding])]) {
      if (!statSync(join(dir, file), { throwIfNoEntry: false })?.isFile()) throw missing(`incomplete (no ${file})`);
    }
  }
  return { dir, script, style, favicon };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * yoga's page (render-graphiql's esm/index.js) with its assets linked from `base` instead of inlined.
 * The options go into a script as JSON with `<` escaped, so no string in them can end the script.
 */
export function renderGraphiQLPage(options: GraphiQLPageOptions, assets: GraphiQLAssets, base: string): string {
  const json = JSON.stringify(options).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title || 'Yoga GraphiQL')}</title>
    <link rel="icon" href="${options.favicon ? escapeHtml(options.favicon) : `${base}/${assets.favicon.name}`}" />
    <link rel="stylesheet" href="${base}/${assets.style.name}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script src="${base}/${assets.script.name}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(window.document.querySelector('#root'), ${json});
    </script>
  </body>
</html>
`;
}

export interface AssetReply {
  body: Buffer;
  type: string;
  encoding?: Encoding;
}

/**
 * Serves the built files by name: the stored copy for the encoding asked, each read once and then held
 * (only what browsers ask for: brotli 1.5 MB for the script). `undefined` for a name not in the build.
 */
export function assetServer(assets: GraphiQLAssets): (name: string, acceptEncoding: string | null) => Promise<AssetReply> | undefined {
  const byName = new Map([assets.script, assets.style, assets.favicon].map((entry) => [entry.name, entry]));
  const read = new Map<string, Promise<AssetReply>>();
  return (name, acceptEncoding) => {
    const entry = byName.get(name);
    if (!entry) return undefined;
    const wanted = pickEncoding(acceptEncoding);
    const encoding = wanted && entry.encodings.includes(wanted) ? wanted : undefined;
    const file = encoding ? entry.name + SUFFIX[encoding] : entry.name;
    let reply = read.get(file);
    if (!reply) {
      reply = readFile(join(assets.dir, file)).then((body) => ({ body, type: entry.type, ...(encoding && { encoding }) }));
      // A failed read (the build replaced under a running gateway) is tried again next time.
      reply.catch(() => read.delete(file));
      read.set(file, reply);
    }
    return reply;
  };
}
