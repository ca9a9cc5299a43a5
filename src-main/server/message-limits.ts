/**
 * Limits on what one WebSocket message may be, checked before it is parsed: its size (ws refuses a bigger frame or
 * message and closes the socket with 1009) and its JSON nesting depth (a deeply nested value would overflow the
 * stack of the parser or of the schema checks after it).
 */

/** The largest message (and frame) accepted; a recipe is a few KB. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** The deepest nesting of arrays and objects accepted; a call's arguments nest about 6 deep. */
export const MAX_JSON_DEPTH = 64;

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
