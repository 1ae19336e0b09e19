// Aggregates a V8 heap snapshot by constructor: node bench/lib/heap-by-constructor.mjs FILE.heapsnapshot [rows] (count, self size, name).
import { readFileSync } from 'node:fs';
const snap = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const m = snap.snapshot.meta; const nf = m.node_fields; const N = nf.length;
const types = m.node_types[0]; const strings = snap.strings; const nodes = snap.nodes;
const iT = nf.indexOf('type'), iN = nf.indexOf('name'), iS = nf.indexOf('self_size');
const agg = new Map();
for (let i = 0; i < nodes.length; i += N) {
  const t = types[nodes[i + iT]]; let name = strings[nodes[i + iN]];
  if (t === 'string' || t === 'concatenated string' || t === 'sliced string') name = '(string)';
  else if (t === 'code') name = '(code)';
  else if (t === 'closure') name = 'closure ' + name;
  else if (t === 'array') name = '(array) ' + name;
  else if (t === 'hidden' ) name = '(hidden) ' + name;
  else if (t === 'object shape') name = '(shape)';
  else if (t === 'number') name = '(number)';
  else if (t !== 'object' && t !== 'native') name = `(${t}) ${name}`;
  if (name.length > 60) name = name.slice(0, 60);
  const a = agg.get(name) ?? [0, 0]; a[0]++; a[1] += nodes[i + iS]; agg.set(name, a);
}
const rows = [...agg].sort((a, b) => b[1][1] - a[1][1]).slice(0, Number(process.argv[3] ?? 60));
for (const [name, [count, size]] of rows) console.log(String(count).padStart(8), String((size / 1024).toFixed(0)).padStart(8) + ' KiB', name);
