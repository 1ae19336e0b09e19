/** Plain-text tables: columns padded to their widest cell, two spaces apart, `-` for a missing value. */

export const MISSING = '-';

export function formatTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | null | undefined>>): string {
  const cells = [headers, ...rows.map((row) => headers.map((_, i) => clean(row[i])))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => width(row[i]!))));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell))))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** One line per cell: control characters (an upstream's newline, an ANSI escape) would break the table. */
function clean(value: string | null | undefined): string {
  if (value == null || value === '') return MISSING;
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/**
 * Columns a terminal gives `value`: two for East Asian wide and fullwidth characters (bk-ci's failure
 * reasons are often Chinese), none for combining marks and zero-width characters, one for the rest.
 */
export function width(value: string): number {
  let columns = 0;
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (ZERO_WIDTH.test(char)) continue;
    columns += WIDE.some(([from, to]) => code >= from && code <= to) ? 2 : 1;
  }
  return columns;
}

const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufeff]/u;

/** The wide (W) and fullwidth (F) blocks of Unicode's EastAsianWidth that names and messages use. */
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], // Hangul Jamo
  [0x2e80, 0x303e], // CJK radicals, Kangxi, CJK symbols and punctuation
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, CJK compatibility
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe30, 0xfe4f], // CJK compatibility forms
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6], // fullwidth signs
  [0x1f300, 0x1f64f], // pictographs and emoticons
  [0x1f900, 0x1f9ff], // supplemental symbols and pictographs
  [0x20000, 0x3fffd], // CJK extensions B and later
];
