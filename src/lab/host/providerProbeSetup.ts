/**
 * The provider probe as the host runs it: its verdicts and log in the data folder, and its child
 * started from the bundled script where the host runs from a bundle (Electron).
 */
import { probeFiles, type ProbeLauncher, type ProbeOptions } from '../../core/model/providerProbe';

export function providerProbeSetup(dataDir: string, launcher?: ProbeLauncher): ProbeOptions {
  return {
    ...probeFiles(dataDir),
    ...(launcher ? { launcher } : {}),
  };
}
