/**
 * Limits on what one call from a front end may be, checked before its arguments are parsed or validated: its size and
 * its nesting depth (a deeply nested value would overflow the stack of the parser or of the schema checks after it).
 * One home for both ways in: the server checks a WebSocket message's raw text (ws refuses a bigger frame or message
 * and closes the socket with 1009), the desktop app's IPC the arguments Electron has already deserialized.
 */

/** The largest message (and frame) accepted; a recipe is a few KB. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** The deepest nesting of arrays and objects accepted; a call's arguments nest about 6 deep. */
export const MAX_JSON_DEPTH = 64;
/** The same limit on a call's arguments where they come without that message's envelope object (IPC). */
export const MAX_ARGS_DEPTH = MAX_JSON_DEPTH - 1;

/** Whether `text` nests arrays/objects deeper than `max`, counted on the raw text (brackets inside strings ignored). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** The call id of a message that could not be parsed, when it starts like the clients' `{"id":N,…`; else -1. The
 *  error reply then reaches the call that sent it. */
export function leadingCallId(text: string): number {
  const m = /^\s*\{\s*"id"\s*:\s*(\d{1,15})\s*,/.exec(text.slice(0, 64));
  return m ? Number(m[1]) : -1;
}

/**
 * Why the arguments of an IPC call break the limits (nested deeper than `maxDepth`, or about more than `maxBytes` as
 * JSON), or null. Walked without recursion and stopping at the first excess, so a cyclic or hostile value cannot
 * exhaust the stack or the time. Depth counts arrays and objects as nestsDeeperThan does; size counts strings by
 * their UTF-16 length, typed arrays by their bytes and other leaves by a few bytes.
 */
export function argumentsExceedLimits(args: unknown, limits: { maxDepth: number; maxBytes: number }): string | null {
  const stack: [unknown, number][] = [[args, 0]];
  let bytes = 0;
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') bytes += v.length + 2;
    else if (ArrayBuffer.isView(v)) bytes += v.byteLength;
    else if (v instanceof ArrayBuffer) bytes += v.byteLength;
    else if (v !== null && typeof v === 'object') {
      if (depth + 1 > limits.maxDepth) return `arguments nest deeper than ${limits.maxDepth} levels`;
      const entries: Iterable<[number | string, unknown]> = Array.isArray(v) ? v.entries() : Object.entries(v as object);
      bytes += 2;
      for (const [k, x] of entries) {
        // An element's comma, or a key with its quotes and colon: a huge array is refused before all of it is queued.
        bytes += typeof k === 'number' ? 1 : k.length + 4;
        if (bytes > limits.maxBytes) return `arguments larger than ${limits.maxBytes} bytes`;
        stack.push([x, depth + 1]);
      }
    } else bytes += 8;
    if (bytes > limits.maxBytes) return `arguments larger than ${limits.maxBytes} bytes`;
  }
  return null;
}
