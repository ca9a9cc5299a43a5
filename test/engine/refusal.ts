/** The one-line refusal a bad input gets (engine/util/errors.ts InputError): what `f` throws, checked and returned. */
import { expect } from 'vitest';
import { InputError } from '../../src-main/engine/util/errors';

export function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected an InputError, got none');
}
