// Loaded with NODE_OPTIONS="--require ./bench/lib/mem-preload.cjs" (bench/mem-subscribers.mjs): on SIGWINCH a
// process runs two full GCs and writes process.memoryUsage() and VmRSS to <tmpdir>/buildgate-mem-<pid>.json.
// Nothing in the gateway's own code: the child inherits NODE_OPTIONS from the bench.
const v8 = require('node:v8');
const vm = require('node:vm');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('SIGWINCH', () => {
  gc();
  gc();
  const usage = process.memoryUsage();
  usage.vmrss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
  fs.writeFileSync(path.join(os.tmpdir(), `buildgate-mem-${process.pid}.json`), JSON.stringify(usage));
});
