/** terminalText: user text printed on a terminal cannot act on it (escape codes, carriage returns, bidi overrides). */
import { describe, expect, it } from 'vitest';
import { terminalText } from '../../src-main/cli/terminal-text';

describe('terminalText', () => {
  it('shows control characters as escapes and leaves other text alone', () => {
    expect(terminalText('plain ümlaut 日本 → ok')).toBe('plain ümlaut 日本 → ok');
    expect(terminalText('\u001b[31mred\u001b]0;title\u0007')).toBe('\\x1b[31mred\\x1b]0;title\\x07');
    expect(terminalText('a\rb\tc\u0000d\u007fe\u009bf')).toBe('a\\rb\\tc\\x00d\\x7fe\\x9bf');
    expect(terminalText('abc\u202edef\u2066\ufeff')).toBe('abc\\u202edef\\u2066\\ufeff');
  });

  it('keeps line breaks only when asked', () => {
    expect(terminalText('one\ntwo')).toBe('one\\ntwo');
    expect(terminalText('one\ntwo\r', { newlines: true })).toBe('one\ntwo\\r');
  });
});
