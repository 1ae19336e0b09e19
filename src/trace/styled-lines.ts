/**
 * `TraceChunk.styledLines`: a chunk's lines as runs of text in one style, parsed from the ANSI SGR codes
 * by ansi-sequence-parser (the parser shiki renders terminal output with). It keeps its style state
 * between calls, so feeding it line by line carries a colour across newlines as a terminal does. It
 * knows only SGR (`ESC[…m`), and would read any other `ESC[` up to the next `m` in the text as one, so
 * section markers, other CSI/OSC escapes and carriage returns are taken out first, and the empty SGR
 * (`ESC[m`, a reset) is spelt out as `ESC[0m`, which it understands.
 */
import { type Color, type ParseToken, createAnsiSequenceParser, createColorPalette, namedColors } from 'ansi-sequence-parser';
import { SECTION_MARKER } from './sections.js';

export interface StyledSegmentModel {
  text: string;
  fg: string | null;
  bg: string | null;
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

export interface StyledLineModel {
  segments: StyledSegmentModel[];
}

// Our own fixed expressions. CSI sequences whose final byte is not `m`, OSC strings (ended by BEL or
// ST), and any other two-byte escape; what is left of an escape is dropped with the lone ESC.
const NON_SGR_CSI = /\u001b\[[0-?]*[ -/]*[@-ln-~]/g;
const OSC = /\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;
const EMPTY_SGR = /\u001b\[m/g;
const OTHER_ESCAPE = /\u001b(?!\[[0-9;]*m)[@-_]?/g;
const CARRIAGE_RETURNS = /\r/g;

const palette = createColorPalette();

/** A colour as the schema documents it: the 16 named ones by name, the rest `#rrggbb`. */
function colour(color: Color | null): string | null {
  if (!color) return null;
  if (color.type === 'named') return color.name;
  if (color.type === 'table' && color.index >= 0 && color.index < namedColors.length) return namedColors[color.index]!;
  if (color.type === 'table' && (color.index > 255 || !Number.isInteger(color.index))) return null;
  return palette.value(color);
}

function cleanLine(raw: string): string {
  let text = raw;
  if (text.includes('section_')) text = text.replace(SECTION_MARKER, '');
  if (text.includes('\r')) text = text.replace(CARRIAGE_RETURNS, '');
  if (!text.includes('\u001b')) return text;
  return text.replace(OSC, '').replace(NON_SGR_CSI, '').replace(EMPTY_SGR, '\u001b[0m').replace(OTHER_ESCAPE, '');
}

const segmentOf = (token: ParseToken): StyledSegmentModel => ({
  text: token.value,
  fg: colour(token.foreground),
  bg: colour(token.background),
  bold: token.decorations.has('bold'),
  italic: token.decorations.has('italic'),
  underline: token.decorations.has('underline'),
});

const sameStyle = (a: StyledSegmentModel, b: StyledSegmentModel): boolean =>
  a.fg === b.fg && a.bg === b.bg && a.bold === b.bold && a.italic === b.italic && a.underline === b.underline;

/** Every line of `content` (split at newlines; no partial empty last line) as styled segments. */
export function styledLines(content: string): StyledLineModel[] {
  if (content === '') return [];
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const parser = createAnsiSequenceParser();
  return lines.map((raw) => {
    const segments: StyledSegmentModel[] = [];
    for (const token of parser.parse(cleanLine(raw))) {
      const segment = segmentOf(token);
      const last = segments.at(-1);
      if (last && sameStyle(last, segment)) last.text += segment.text;
      else segments.push(segment);
    }
    return { segments };
  });
}
