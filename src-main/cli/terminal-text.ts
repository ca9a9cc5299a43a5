/**
 * User text on the terminal. Names, tags, notes, paths and messages that echo them may hold control characters: an
 * ANSI escape sequence would recolour, move the cursor or retitle the terminal, a carriage return would overwrite the
 * line, a bidirectional override would reorder what is shown. Printed, they appear as escapes (\x1b, \r, \u202e).
 */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const UNSAFE_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function shown(c: string): string {
  const n = c.codePointAt(0)!;
  return NAMED[c] ?? (n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`);
}

/** `s` safe to print: control characters shown as escapes; line breaks kept only with `newlines`. */
export function terminalText(s: string, opts: { newlines?: boolean } = {}): string {
  return s.replace(opts.newlines ? UNSAFE : UNSAFE_OR_NEWLINE, shown);
}
