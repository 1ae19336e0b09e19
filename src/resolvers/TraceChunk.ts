import type { TraceChunkResolvers } from '../generated/resolvers.js';
import { traceLines, traceSections } from '../trace/sections.js';
import { styledLines } from '../trace/styled-lines.js';

export const TraceChunk: TraceChunkResolvers = {
  lines: (chunk, { stripAnsi }) => traceLines(chunk.content, stripAnsi ?? true),
  sections: (chunk) => traceSections(chunk.content),
  styledLines: (chunk) => styledLines(chunk.content),
};
