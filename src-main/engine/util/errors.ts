/** Bad input from the user (config, flags, files). The CLI prints the message on one line and exits with 2. */
export class InputError extends Error {
  override name = 'InputError';
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
