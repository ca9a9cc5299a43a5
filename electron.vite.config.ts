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
          // index.js: the runner finds them as `./worker.js` and `./train-worker.js`.
          worker: resolve(__dirname, 'src-main/jobs/worker.ts'),
          'train-worker': resolve(__dirname, 'src-main/jobs/train-worker.ts'),
        },
        output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
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
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
  },
});
