/**
 * `npm run build`'s last step: GraphiQL's assets (yoga's @graphql-yoga/render-graphiql: ~8.6 MB of script,
 * CSS and workers) as files in dist/graphiql-assets/, each with its brotli and gzip copies made here, once,
 * so that no start-up and no first browser waits for them (brotli 5 on the page took ~0.45 s of the
 * first answer's ~1.6 s). Names carry a content hash: the gateway serves them as immutable. The page itself
 * (src/graphiql-assets.ts) is small, rendered per configuration, and names these files in manifest.json.
 *
 *   node scripts/build-graphiql-assets.mjs [outDir]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { css, editorWorkerService, favicon, graphqlWorker, js, jsonWorker } from '@graphql-yoga/render-graphiql/graphiql';

const OUT = process.argv[2] ?? fileURLToPath(new URL('../dist/graphiql-assets/', import.meta.url));
/** Built once, sent many times: the slow end of both (brotli 11 takes ~15 s on 8 MB; 9 is within ~2% of it). */
const BROTLI_QUALITY = 9;
const GZIP_LEVEL = 9;

/**
 * What yoga's renderGraphiQL inlines in its page script before rendering (its esm/index.js): the Monaco
 * workers as blob URLs, then GraphiQL's bundle, which defines `YogaGraphiQL`. The page calls
 * `YogaGraphiQL.renderYogaGraphiQL` with its options after loading this.
 */
const script = `function prepareBlob(workerContent) {
  const blob = new Blob([workerContent], { type: 'application/javascript' });
  return URL.createObjectURL(blob);
}
const workers = {
  editorWorkerService: prepareBlob(${JSON.stringify(editorWorkerService)}),
  json: prepareBlob(${JSON.stringify(jsonWorker)}),
  graphql: prepareBlob(${JSON.stringify(graphqlWorker)}),
};
self['MonacoEnvironment'] = {
  globalAPI: false,
  getWorkerUrl: function (moduleId, label) {
    return workers[label];
  },
};
${js};
`;

const iconMatch = /^data:([^;,]+);base64,(.*)$/s.exec(favicon);
if (!iconMatch) throw new Error('render-graphiql\'s favicon is not a base64 data URL');

const assets = [
  { role: 'script', base: 'graphiql', ext: 'js', type: 'text/javascript; charset=utf-8', body: Buffer.from(script), compress: true },
  { role: 'style', base: 'graphiql', ext: 'css', type: 'text/css; charset=utf-8', body: Buffer.from(css), compress: true },
  { role: 'favicon', base: 'favicon', ext: 'ico', type: iconMatch[1], body: Buffer.from(iconMatch[2], 'base64'), compress: false },
];

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const manifest = {};
for (const { role, base, ext, type, body, compress } of assets) {
  const name = `${base}.${createHash('sha256').update(body).digest('hex').slice(0, 16)}.${ext}`;
  writeFileSync(join(OUT, name), body);
  const encodings = [];
  if (compress) {
    writeFileSync(join(OUT, `${name}.br`), zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }));
    writeFileSync(join(OUT, `${name}.gz`), zlib.gzipSync(body, { level: GZIP_LEVEL }));
    encodings.push('br', 'gzip');
  }
  manifest[role] = { name, type, encodings };
}
// Written last: the gateway (and build-if-stale) take its presence for a complete build.
writeFileSync(join(OUT, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(`GraphiQL assets: ${readdirSync(OUT).length} files in ${OUT}\n`);
