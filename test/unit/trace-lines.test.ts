/**
 * `TraceChunk.lines(stripAnsi:)`: with stripping, every terminal escape goes (CSI colours, OSC-8
 * hyperlinks) along with GitLab's section markers and carriage returns; without, lines are as sent.
 */
import { describe, expect, it } from 'vitest';
import { traceLines, traceSections } from '../../src/trace/sections.js';

const OSC8 = '\x1b]8;;http://x\x1b\\text\x1b]8;;\x1b\\';

describe('traceLines', () => {
  it('strips an OSC-8 hyperlink down to its text', () => {
    expect(traceLines(`see ${OSC8} here\n`, true)).toEqual(['see text here']);
  });

  it('strips colours and section markers, and keeps them when asked', () => {
    const log = '\x1b[0Ksection_start:1560896352:build[collapsed=true]\r\x1b[0K\x1b[32;1mBuilding\x1b[0;m\nok\r\n';
    expect(traceLines(log, true)).toEqual(['Building', 'ok']);
    expect(traceLines(log, false)).toEqual(log.split('\n').slice(0, -1));
    expect(traceSections(log)).toEqual([{ name: 'build', event: 'START', time: '2019-06-18T22:19:12.000Z', collapsed: true, line: 0 }]);
  });

  it('has no lines for an empty chunk, and keeps a partial last line', () => {
    expect(traceLines('', true)).toEqual([]);
    expect(traceLines('a\nb', true)).toEqual(['a', 'b']);
  });
});
