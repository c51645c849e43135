import { defineConfig } from 'vitest/config';

/**
 * Four groups, as the code is: unit (no model), integration (real ONNX models, the CLI as a
 * process), build (the built app's files and `serve`), e2e (the app in real Chromium). Only build
 * and e2e build the app first (test/support/globalSetup.ts, once per `vitest` run).
 */
const group = (name: string, order: number, needsBuild: boolean) => ({
  extends: true as const,
  test: {
    name,
    include: [`test/${name}/**/*.test.ts`],
    ...(needsBuild ? { globalSetup: ['test/support/globalSetup.ts'] } : {}),
    // one group at a time, in this order: the quick ones report first
    sequence: { groupOrder: order },
  },
});

export default defineConfig({
  test: {
    // verbose: skipped tests print their reason (a missing Electron binary, PyTorch, Chromium)
    reporters: ['verbose'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // ONNX sessions are CPU-heavy; running test files one at a time keeps timings sane on 2 cores.
    fileParallelism: false,
    projects: [
      group('unit', 0, false),
      group('integration', 1, false),
      group('build', 2, true),
      group('e2e', 3, true),
    ],
  },
});
