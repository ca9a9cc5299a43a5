/**
 * tfjs-core registers its gradient functions only from its ES-module sources (dist/register_all_gradients.js), whose
 * extensionless imports Node cannot load, and its CommonJS bundle leaves them out. So we bundle that one file with
 * esbuild into a CommonJS file once (cached under node_modules/.cache/modelab) and load it. The bundled ops reach the
 * one global tfjs engine and the global gradient registry, so they serve every tfjs-core instance in the process.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export function ensureGradients(): void {
  if (tf.getGradient('Neg') !== undefined) return;
  const coreDir = path.dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
  const cacheDir = process.env['MODELAB_CACHE'] ?? path.join(coreDir, '..', '..', '.cache', 'modelab');
  const file = path.join(cacheDir, `tfjs-gradients-${tf.version_core}.cjs`);
  if (!existsSync(file)) {
    const esbuild = require('esbuild') as typeof import('esbuild');
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    esbuild.buildSync({
      entryPoints: [path.join(coreDir, 'dist', 'register_all_gradients.js')],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      outfile: tmp,
      logLevel: 'silent',
    });
    renameSync(tmp, file);
  }
  require(file);
  if (tf.getGradient('Neg') === undefined) throw new Error(`loading ${file} registered no tfjs gradients`);
}
