import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { CONTENT_SECURITY_POLICY } from './src/shared/csp';

export default defineConfig({
  main: {
    // onnxruntime-node (native) and @huggingface/transformers stay external: they are runtime
    // dependencies, unpacked from the asar when packaged.
    build: { externalizeDeps: true },
  },
  preload: {
    build: {
      // A sandboxed preload must be one CommonJS file that requires nothing but electron.
      externalizeDeps: false,
      rollupOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    build: { rollupOptions: { input: resolve('src/renderer/index.html') } },
    plugins: [
      svelte({ configFile: resolve('svelte.config.js') }),
      {
        name: 'specdec-csp',
        transformIndexHtml: (html) => html.replace('%SPECDEC_CSP%', CONTENT_SECURITY_POLICY),
      },
    ],
  },
});
