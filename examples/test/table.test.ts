/** The `failed` table lines up in a terminal: wide characters take two columns, control characters none. */
import { describe, expect, it } from 'vitest';
import { formatTable, width } from '../src/table.js';

describe('formatTable', () => {
  it('pads by terminal columns, so Chinese failure reasons (bk-ci) line up', () => {
    expect(width('编译 Compile')).toBe(12);
    expect(width('café')).toBe(4);
    expect(width('e\u0301')).toBe(1);
    expect(formatTable(['NAME', 'REASON', 'URL'], [['编译', '插件执行失败', 'http://a'], ['lint', 'script_failure', null]])).toBe(
      'NAME  REASON          URL\n' + '编译  插件执行失败    http://a\n' + 'lint  script_failure  -\n',
    );
  });

  it('keeps each row on one line whatever the upstream sends', () => {
    expect(formatTable(['A', 'B'], [['two\nlines', '\x1b[31mred\x1b[0m']])).toBe('A          B\ntwo lines   [31mred [0m\n');
  });
});
