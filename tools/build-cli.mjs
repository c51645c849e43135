// Bundles the `specdec` CLI to JavaScript in out/cli, so the command starts without compiling
// TypeScript (bin/specdec.js runs out/cli/main.js when it is there). Packages stay external:
// onnxruntime-node (native), transformers.js and the rest load from node_modules at run time.
// esbuild is a dev dependency of ours (and tsx's own), so it is installed wherever the CLI is built.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'out', 'cli');

rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // the command, and the two scripts it starts in child processes (src/cli/childScripts.ts)
  entryPoints: {
    main: 'src/cli/main.ts',
    hostProcess: 'src/cli/hostProcess.ts',
    providerProbeChild: 'src/core/model/providerProbeChild.ts',
  },
  outdir,
  // chunks sit beside the entries: src/cli/paths.ts finds the repository two folders up
  chunkNames: '[name]-[hash]',
  bundle: true,
  // each command's module is a chunk of its own, loaded when the command runs
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
