/**
 * Version 6: a path's check verdict as its state (engine/experiment/check-state.ts: pass, warning, fail), not only the
 * 0/1 `check_pass` that reads a WARNING as a failure. Existing rows take the state their stored document records
 * (version 5 documents carry `check.state`) and otherwise derive it from check_pass; paths without a check stay NULL.
 */
import type { Migration } from './types';

export const migration006: Migration = {
  version: 6,
  name: 'check-state',
  async up(sql) {
    await sql.exec(`
      ALTER TABLE paths ADD COLUMN check_state TEXT;
      UPDATE paths SET check_state = CASE
        WHEN json_valid(result_json) AND json_extract(result_json, '$.check.state') IN ('pass', 'warning', 'fail')
          THEN json_extract(result_json, '$.check.state')
        WHEN check_pass = 1 THEN 'pass'
        WHEN check_pass = 0 THEN 'fail'
      END;
    `);
  },
};
