/** The only bridge between the sandboxed renderer and Electron. */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('specdec', {
  platform: process.platform,
  versions: { electron: process.versions.electron, chrome: process.versions.chrome },
});
