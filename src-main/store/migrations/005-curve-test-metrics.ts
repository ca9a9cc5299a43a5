/**
 * Version 5: test loss and accuracy on training-curve points (engine/train/test-probe.ts). Nullable: points stored
 * before, and curve points without them (BatchNorm networks), keep NULL and read back without the fields.
 */
import type { Migration } from './types';

export const migration005: Migration = {
  version: 5,
  name: 'curve-test-metrics',
  async up(sql) {
    await sql.exec(`
      ALTER TABLE curve_points ADD COLUMN test_loss REAL;
      ALTER TABLE curve_points ADD COLUMN test_acc REAL;
    `);
  },
};
