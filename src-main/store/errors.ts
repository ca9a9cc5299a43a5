/** History errors the user can act on. They are InputErrors: the CLI prints one line and exits with 2. */
import { InputError } from '../engine/util/errors';

/** The database file cannot be used (not SQLite, corrupt, from a newer ModeLab, not ModeLab's). It was not changed. */
export class DatabaseFileError extends InputError {
  override name = 'DatabaseFileError';
}

/** No run with that id (or the prefix matches several). */
export class RunNotFoundError extends InputError {
  override name = 'RunNotFoundError';
}
