/** A study whose cells run long (the smoke-study preset trained for 5,000 epochs): something to cancel mid-cell. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function longStudy(name: string): unknown {
  const doc = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../resources/studies/smoke-study.json'), 'utf8')) as {
    base: { config: { training: { epochs: number } } };
  };
  doc.base.config.training.epochs = 5000;
  return { ...doc, name };
}
