/** Where in a document a value sits: keys and array indices, e.g. `['paths', 1, 'to']`. */
export type FieldPath = (string | number)[];

/** The field an InputError is about, and the reason without the prefixes that name the document and the field. */
export interface FieldProblem {
  field: FieldPath;
  reason: string;
}

/**
 * Bad input from the user (config, flags, files). The CLI prints the message on one line and exits with 2. An error
 * about one field of a recipe carries that field as data (`at`), so a form marks the field without parsing the text.
 */
export class InputError extends Error {
  override name = 'InputError';
  readonly at: FieldProblem | undefined;
  constructor(message: string, at?: FieldProblem) {
    super(message);
    this.at = at;
  }
}

/** An InputError about one field: the message reads "source: a.1.b: reason" (no source prefix when it is empty). */
export function fieldError(source: string, field: FieldPath, reason: string): InputError {
  return new InputError(`${source ? `${source}: ` : ''}${field.length ? field.join('.') : '(root)'}: ${reason}`, { field, reason });
}

/** The user cancelled a long computation. The CLI exits with 130. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** Throws CancelledError if the signal has fired. Long loops call this once per step. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Training produced a non-finite loss: the run stops at once, with this message as its reason (CLI: a failed run). */
export class DivergedError extends Error {
  override name = 'DivergedError';
  constructor(
    readonly what: string,
    readonly step: number,
    readonly loss: number,
  ) {
    super(`${what} diverged at step ${step}: loss ${Number.isNaN(loss) ? 'NaN' : loss > 0 ? '+∞' : '−∞'} — lower the learning rate or check the initialisation (architecture.init)`);
  }
}
