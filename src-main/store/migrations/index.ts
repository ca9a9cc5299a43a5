/** Every schema step, in order. Add a migration as the next numbered module, and a fixture of the previous version
 *  under test/fixtures/store/ (the migration tests require one per earlier version). */
import { migration001 } from './001-initial';
import { migration002 } from './002-annotations';
import { migration003 } from './003-jobs';
import { migration004 } from './004-plane-checkpoints';
import { migration005 } from './005-curve-test-metrics';
import { migration006 } from './006-check-state';
import { migration007 } from './007-studies';
import type { Migration } from './types';

export type { Migration } from './types';

export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007];

/** The schema version this build of ModeLab writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
