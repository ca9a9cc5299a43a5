/**
 * The screenshots in docs/screenshots/: the app in Chromium against `modelab serve`, with a history of real runs
 * started through the app's api — two small MNIST experiments (five ways of joining two networks with the loss
 * plane; dropout and noise stability with the Theorem 1 and 2 paths), two smoke runs, the Theorem 4
 * counterexample, a CIFAR-10 run without its data (failed) and a long run cancelled from the UI.
 *
 *   node --import tsx test/e2e/docs-screenshots.ts        (about 4 minutes on 2 cores)
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, launchChromium, serve, signIn, wsCall } from './helpers';

const OUT = path.join(ROOT, 'docs', 'screenshots');
const mnist = { name: 'mnist', train: 10000, test: 2000, normalize: 'scale' };
const curve = { epochs: 1, lr: 0.05, momentum: 0.9, weightDecay: 0.0001, batchSize: 128, schedule: { type: 'cosine', minLr: 0 }, points: 41 };

const COMPARE = {
  name: 'mnist-mlp-compare (10k)',
  description: 'Two MNIST MLPs (784-256-256-10) joined five ways, with the loss plane through θ_A, θ_B and π(θ_B).',
  seed: 1,
  dataset: mnist,
  architecture: { type: 'mlp', hidden: [256, 256], bias: true, dropout: 0 },
  training: { optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.0001, batchSize: 128, epochs: 3, schedule: { type: 'cosine', minLr: 0 } },
  endpoints: [{ name: 'A' }, { name: 'B' }],
  paths: [
    { type: 'linear', points: 41 },
    { type: 'aligned-linear', method: 'weight', points: 41 },
    { type: 'bezier', order: 2, ...curve },
    { type: 'polychain', bends: 1, ...curve },
    { type: 'theorem1', perSegment: 4 },
  ],
  plane: { third: { path: 'aligned-linear', vertex: -1 }, size: 17, margin: 0.2, trainSamples: 1000, testSamples: 1000 },
  evaluation: { trainSamples: 5000, testSamples: null, batchSize: 2000 },
};

const DROPOUT = {
  name: 'mnist-mlp-dropout (10k)',
  description: 'Two bias-free MNIST MLPs with dropout 0.5: stability, narrow networks, and the straight line, Theorem 1 and Theorem 2 paths.',
  seed: 3,
  dataset: mnist,
  architecture: { type: 'mlp', hidden: [256, 256], bias: false, dropout: 0.5 },
  training: { optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 128, epochs: 4, schedule: { type: 'cosine', minLr: 0 } },
  endpoints: [{ name: 'A' }, { name: 'B' }],
  stability: {
    dropout: { keepFraction: 0.5, masks: 10, heuristic: true, searchSamples: 2000 },
    sweep: { fractions: [0.1, 0.2, 0.3, 0.5, 0.7, 0.9], masks: 4 },
    noise: { samples: 64, iterations: 10, p: 0.5, ts: [0, 0.5] },
    narrow: { widths: [4, 8, 16, 32], trials: 2, training: { epochs: 1 } },
  },
  paths: [
    { type: 'linear', points: 41 },
    { type: 'theorem1', perSegment: 4, dropout: { keepFraction: 0.5, masks: 10, heuristic: true, searchSamples: 2000 } },
    { type: 'theorem2', p: 0.75, maxTries: 10, tolerance: 0.1, checkPoints: 4, perSegment: 4 },
  ],
  evaluation: { trainSamples: 5000, testSamples: null, batchSize: 2000 },
};

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const server = await serve([], { MODELAB_PARALLEL_ENDPOINTS: '0' });
  const browser = await launchChromium();
  const page: Page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })).newPage();
  await signIn(page, server);
  const shot = async (name: string): Promise<void> => {
    await page.waitForTimeout(600);
    await page.screenshot({ path: path.join(OUT, `${name}.png`) });
    process.stderr.write(`  ${name}.png\n`);
  };
  const start = async (req: Record<string, unknown>): Promise<string> => {
    const r = await wsCall<{ id: string }>(server, 'startRun', [req]);
    if (!r.ok) throw new Error(`${JSON.stringify(req).slice(0, 80)}: ${r.error.message}`);
    return r.value.id;
  };
  const waitFinal = async (id: string): Promise<string> => {
    for (;;) {
      const r = await wsCall<{ status: string }>(server, 'getRun', [id]);
      if (r.ok && !['queued', 'running'].includes(r.value.status)) return r.value.status;
      await new Promise((res) => setTimeout(res, 1000));
    }
  };
  try {
    const smoke1 = await start({ preset: 'smoke', name: 'smoke (seed 1)', tags: ['smoke'] });
    await waitFinal(smoke1);
    const smoke2 = await start({ preset: 'smoke', seed: 2, name: 'smoke (seed 2)', tags: ['smoke'] });
    await waitFinal(smoke2);
    const counter = await start({ preset: 'counterexample', name: 'Theorem 4 counterexample', tags: ['paper'] });
    await waitFinal(counter);
    const failed = await start({ preset: 'cifar10-vgg11-paper', name: 'VGG-11 on CIFAR-10 (no data here)', tags: ['paper'] });
    await waitFinal(failed);

    // New experiment, then a long run started from the UI, watched live, and cancelled.
    await page.goto(`${server.url}#/new?preset=smoke`);
    await page.getByTestId('validation-state').filter({ hasText: 'ready' }).waitFor();
    await shot('01-new-experiment');
    await page.getByTestId('run-name').fill('smoke, 400 epochs');
    const epochs = page.locator('[data-path="training.epochs"] input');
    await epochs.fill('400');
    await epochs.press('Tab');
    await page.getByTestId('validation-state').filter({ hasText: 'ready' }).waitFor();
    await page.getByTestId('start').click();
    await page.waitForURL(/#\/run\//);
    await page.locator('[data-stage="train:A"].stage-running').waitFor({ timeout: 120_000 });
    await page.waitForTimeout(6000);
    await shot('02-live-run');
    await page.getByTestId('cancel').first().click();
    await page.locator('.run-head [data-status="cancelled"]').waitFor({ timeout: 60_000 });

    const compare = await start({ recipe: COMPARE, name: COMPARE.name, tags: ['mnist', 'curves'], notes: 'Five ways of joining the same two networks.' });
    const dropout = await start({ recipe: DROPOUT, name: DROPOUT.name, tags: ['mnist', 'paper'] });

    process.stderr.write('waiting for the MNIST runs…\n');
    await waitFinal(compare);
    await waitFinal(dropout);

    await page.goto(`${server.url}#/run/${compare}`);
    await page.locator('.run-head [data-status="finished"]').waitFor();
    await shot('03-run-paths');
    await page.getByTestId('checks').scrollIntoViewIfNeeded();
    await shot('04-run-checks');
    await page.locator('[data-tab="plane"]').click();
    await page.locator('[data-chart="plane"]').waitFor();
    await shot('05-run-plane');
    await page.locator('[data-tab="training"]').click();
    await shot('06-run-training');

    await page.goto(`${server.url}#/run/${dropout}`);
    await page.locator('.run-head [data-status="finished"]').waitFor();
    await shot('07-run-paths-theorems');
    await page.locator('[data-tab="stability"]').click();
    await page.locator('[data-chart="stability-sweep"]').waitFor();
    // The whole tab at once: a taller window for this one.
    await page.setViewportSize({ width: 1280, height: 1180 });
    await shot('08-run-stability');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator('[data-tab="record"]').click();
    await shot('09-run-record');

    await page.goto(`${server.url}#/history`);
    await page.locator('.spacer .tr[data-run]').first().waitFor();
    await shot('10-history');
    await page.goto(`${server.url}#/compare?ids=${smoke1},${smoke2}`);
    await page.locator('[data-chart="compare-loss"]').waitFor();
    await shot('11-compare');
    await page.goto(`${server.url}#/history`);
    await page.locator(`.spacer .tr[data-run="${failed}"]`).click();
    await page.getByTestId('delete-selected').click();
    const dialog = page.getByRole('dialog', { name: 'Delete 1 run?' });
    await dialog.waitFor();
    await shot('12-delete-confirm');
    await dialog.getByTestId('confirm-cancel').click();

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${server.url}#/run/${compare}`);
    await page.locator('.run-head [data-status="finished"]').waitFor();
    await shot('13-run-paths-dark');
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
