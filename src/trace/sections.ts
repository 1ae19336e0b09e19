/**
 * What a frontend needs to render a chunk of a GitLab log: its lines (with or without ANSI colours) and
 * its `section_start`/`section_end` markers (GitLab's collapsible sections,
 * https://docs.gitlab.com/ci/jobs/job_logs/#custom-collapsible-sections).
 */
import { stripVTControlCharacters } from 'node:util';

export interface TraceSectionModel {
  name: string;
  event: 'START' | 'END';
  time: string;
  collapsed: boolean;
  line: number;
}

// `\e[0Ksection_start:1560896352:my_section[collapsed=true]\r\e[0K`
export const SECTION_MARKER = /(?:\u001b\[0K)?section_(start|end):(\d{1,12}):([A-Za-z0-9_.-]+)(?:\[([^\]\r\n]*)\])?\r?(?:\u001b\[0K)?/g;

export function traceLines(content: string, stripAnsi: boolean): string[] {
  if (content === '') return [];
  const lines = content.split('\n');
  // A chunk that ends with a newline has no partial last line.
  if (lines.at(-1) === '') lines.pop();
  // Node's own stripper knows every escape a terminal does (CSI colours, OSC-8 hyperlinks and titles).
  return stripAnsi ? lines.map((line) => stripVTControlCharacters(line.replace(SECTION_MARKER, '')).replace(/\r/g, '')) : lines;
}

export function traceSections(content: string): TraceSectionModel[] {
  const sections: TraceSectionModel[] = [];
  content.split('\n').forEach((line, index) => {
    for (const match of line.matchAll(SECTION_MARKER)) {
      const options = match[4] ?? '';
      sections.push({
        name: match[3]!.toLowerCase(),
        event: match[1] === 'start' ? 'START' : 'END',
        time: new Date(Number(match[2]) * 1000).toISOString(),
        collapsed: /(?:^|,)\s*collapsed\s*=\s*true\s*(?:,|$)/.test(options),
        line: index,
      });
    }
  });
  return sections;
}
