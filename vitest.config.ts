import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    // verbose: skipped tests print their reason (a missing Electron binary, PyTorch, Chromium)
    reporters: ['verbose'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // ONNX sessions are CPU-heavy; running test files one at a time keeps timings sane on 2 cores.
    fileParallelism: false,
  },
});
