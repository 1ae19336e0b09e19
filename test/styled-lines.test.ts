/**
 * Issue #15 item 4: `TraceChunk.styledLines` over HTTP against the simulator: segments for the basic
 * and bright colours, bold/italic/underline and their resets, 256-colour and 24-bit colours, styles
 * carried across lines, section markers and other escapes removed; and on the simulator's own logs,
 * the segments' text is what `lines` (ANSI stripped) says, line for line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers/stack.js';
import { ESC, logJob, sectionEnd, sectionStart } from './helpers/log-job.js';

const STYLED = `query($id: ID!) { build(id: $id) { trace { lines styledLines { segments { text fg bg bold italic underline } } } } }`;
const PLAIN = { fg: null, bg: null, bold: false, italic: false, underline: false };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ simulator: { tickMs: 3_600_000 }, upstream: { token: 'glpat-developer' } });
});
afterAll(() => stack?.close());

async function styledOf(lines: string[]) {
  const { id } = await logJob(stack, `${lines.join('\n')}\n`);
  const response = await stack.graphql(STYLED, { id });
  expect(response.errors).toBeUndefined();
  return response.data!.build.trace;
}

describe('TraceChunk.styledLines', () => {
  it('splits a line at its SGR codes: colours by name, bold, italic, underline and their resets', async () => {
    const trace = await styledOf([
      `${ESC}[31mred${ESC}[0m plain`,
      `${ESC}[1;32mbold green${ESC}[22m just green${ESC}[39m default`,
      `${ESC}[3mitalic${ESC}[23m ${ESC}[4munder${ESC}[24m`,
      `${ESC}[94;41mbright blue on red${ESC}[49m${ESC}[m back`,
    ]);
    expect(trace.styledLines.map((line: any) => line.segments)).toEqual([
      [
        { ...PLAIN, text: 'red', fg: 'red' },
        { ...PLAIN, text: ' plain' },
      ],
      [
        { ...PLAIN, text: 'bold green', fg: 'green', bold: true },
        { ...PLAIN, text: ' just green', fg: 'green' },
        { ...PLAIN, text: ' default' },
      ],
      [
        { ...PLAIN, text: 'italic', italic: true },
        { ...PLAIN, text: ' ' },
        { ...PLAIN, text: 'under', underline: true },
      ],
      [
        { ...PLAIN, text: 'bright blue on red', fg: 'brightBlue', bg: 'red' },
        { ...PLAIN, text: ' back' },
      ],
    ]);
  });

  it('gives 256-colour and 24-bit colours as names (indexes 0–15) or #rrggbb', async () => {
    const trace = await styledOf([
      `${ESC}[38;5;196mcube red${ESC}[0m ${ESC}[38;5;9mnine${ESC}[0m ${ESC}[48;5;244mgrey bg${ESC}[0m`,
      `${ESC}[38;2;255;128;0morange${ESC}[48;2;0;0;255m on blue${ESC}[0m`,
    ]);
    expect(trace.styledLines.map((line: any) => line.segments)).toEqual([
      [
        { ...PLAIN, text: 'cube red', fg: '#ff0000' },
        { ...PLAIN, text: ' ' },
        { ...PLAIN, text: 'nine', fg: 'brightRed' },
        { ...PLAIN, text: ' ' },
        { ...PLAIN, text: 'grey bg', bg: '#808080' },
      ],
      [
        { ...PLAIN, text: 'orange', fg: '#ff8000' },
        { ...PLAIN, text: ' on blue', fg: '#ff8000', bg: '#0000ff' },
      ],
    ]);
  });

  it('carries a style across lines until a reset, and removes section markers and other escapes', async () => {
    const trace = await styledOf([
      `${ESC}[33mstarts yellow`,
      `still yellow${ESC}[0m then not`,
      sectionStart('step_script', `${ESC}[36;1mExecuting "step_script"${ESC}[0;m`),
      `${ESC}[2K${ESC}]8;;https://example.com${ESC}\\link${ESC}]8;;${ESC}\\ text\r`,
      sectionEnd('step_script'),
      '',
    ]);
    expect(trace.styledLines.map((line: any) => line.segments)).toEqual([
      [{ ...PLAIN, text: 'starts yellow', fg: 'yellow' }],
      [
        { ...PLAIN, text: 'still yellow', fg: 'yellow' },
        { ...PLAIN, text: ' then not' },
      ],
      [{ ...PLAIN, text: 'Executing "step_script"', fg: 'cyan', bold: true }],
      [{ ...PLAIN, text: 'link text' }],
      [],
      [],
    ]);
    // The same text as the plain lines.
    expect(trace.styledLines.map((line: any) => line.segments.map((s: any) => s.text).join(''))).toEqual(trace.lines);
  });

  it('reads as `lines` says, line for line, on the simulator\'s own logs', async () => {
    const { body: jobs } = await stack.rest('/projects/1/jobs?per_page=20', 'glpat-developer');
    const ids = (jobs as Array<{ id: number; started_at: string | null }>).filter((job) => job.started_at !== null).slice(0, 5);
    expect(ids.length).toBeGreaterThan(0);
    for (const job of ids) {
      const response = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${job.id}") { trace { content lines styledLines { segments { text fg bold } } } } } }`);
      expect(response.errors).toBeUndefined();
      const trace = response.data!.project.build.trace;
      expect(trace.styledLines.map((line: any) => line.segments.map((s: any) => s.text).join(''))).toEqual(trace.lines);
      // Every coloured run of the raw log shows up as a segment with a colour.
      if (trace.content.includes(`${ESC}[32;1m`)) expect(trace.styledLines.some((line: any) => line.segments.some((s: any) => s.fg === 'green' && s.bold))).toBe(true);
    }
  });
});
