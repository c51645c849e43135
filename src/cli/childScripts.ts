/**
 * The scripts the CLI starts in child processes (serve's engine host, the provider probe): the
 * TypeScript sources through tsx in a checkout, or the JavaScript beside this file once
 * `npm run build` has bundled the CLI into out/cli (tools/build-cli.mjs names them).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeLauncher } from '../core/model/providerProbe';

const here = fileURLToPath(import.meta.url);
/** true when this runs from the bundle in out/cli, false from src/cli through tsx */
export const RUNS_BUILT = !here.endsWith('.ts');

/** serve's engine host (hostProcess.ts) */
export function hostProcessLauncher(): ProbeLauncher {
  return RUNS_BUILT
    ? { script: join(dirname(here), 'hostProcess.js'), execArgv: [] }
    : { script: join(dirname(here), 'hostProcess.ts'), execArgv: ['--import', 'tsx'] };
}

/** the provider probe's child; from source the probe finds its own (undefined) */
export function probeLauncher(): ProbeLauncher | undefined {
  return RUNS_BUILT
    ? { script: join(dirname(here), 'providerProbeChild.js'), execArgv: [] }
    : undefined;
}
