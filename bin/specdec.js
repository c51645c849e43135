#!/usr/bin/env node
// The `specdec` command: the built CLI (out/cli/main.js, from `npm run build`) when it is there,
// which starts at once; otherwise, in a checkout not built yet, the TypeScript through tsx.
import { existsSync } from 'node:fs';

const built = new URL('../out/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
