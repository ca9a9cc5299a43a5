/**
 * The rules for what a user (or a bundle) may store in a run's editable fields: one home for the api's argument
 * schemas (api/wire.ts), its handlers and bundle import (store/bundle-schema.ts). Plain constants: no zod here, so
 * the CLI's history commands load nothing extra.
 */
import { InputError } from '../engine/util/errors';

/** A chart colour: #rgb, #rrggbb or a CSS colour name (3 to 20 lowercase letters). */
export const COLOUR_RULE = /^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-z]{3,20})$/;
export const COLOUR_MESSAGE = 'a #rgb/#rrggbb value or a colour name';

/** Throws the one-line InputError for a colour that does not fit COLOUR_RULE. */
export function checkColour(colour: string): void {
  if (!COLOUR_RULE.test(colour)) throw new InputError(`colour '${colour}' is not ${COLOUR_MESSAGE}`);
}

export const NAME_MAX = 200;
export const NOTES_MAX = 100_000;
export const TAG_MAX = 100;
/** A tag: no spaces or commas (the CLI and the list filter separate tags with them). */
export const TAG_RULE = /^[^\s,]+$/;
export const TAG_MESSAGE = 'a tag has no spaces or commas';

/**
 * Control characters no stored text may hold (terminal escapes, NUL …): C0 except tab and line breaks, DEL, C1.
 * Names and tags may not hold line breaks either (NAME_RULE, TAG_RULE).
 */
export const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
export const NAME_RULE = /^[^\u0000-\u001f\u007f-\u009f]*$/;
