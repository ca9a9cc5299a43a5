import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

// Sources live in src-main/ and src-renderer/ (the product card's layout), so every entry is named here.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // `dependencies` stay external (electron-vite's default): sqlite3, webgpu and the tfjs packages load from
      // node_modules (outside the asar archive for the native ones, electron-builder.yml), never bundled.
      externalizeDeps: { include: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] },
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src-main/electron/main.ts'),
          // The job processes the app starts with utilityProcess.fork (and the endpoint trainers), built beside
          // index.cjs: the runner finds them as `./worker.cjs` and `./train-worker.cjs`.
          worker: resolve(__dirname, 'src-main/jobs/worker.ts'),
          'train-worker': resolve(__dirname, 'src-main/jobs/train-worker.ts'),
          // The path-point helper a job starts beside itself (jobs/points.ts): `./point-worker.cjs`.
          'point-worker': resolve(__dirname, 'src-main/jobs/point-worker.ts'),
          // The quick bench the app runs on request (jobs/bench-job.ts): `./bench-worker.cjs`.
          'bench-worker': resolve(__dirname, 'src-main/jobs/bench-worker.ts'),
        },
        // CommonJS (.cjs: package.json says "type": "module"): electron-vite's ESM output adds a `const require`
        // shim to every chunk that calls require(), which collides with the engine's own
        // `const require = createRequire(import.meta.url)` — the built worker would not even load.
        output: { format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: '[name]-[hash].cjs' },
      },
    },
  },
  preload: {
    // A sandboxed preload cannot require() packages: bundle everything into it.
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    plugins: [vue()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      // Served to browsers too (`modelab serve`): minified; ECharts is tree-shaken (charts/setup.ts).
      minify: true,
      chunkSizeWarningLimit: 1500,
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
  },
});
