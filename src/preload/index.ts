/**
 * The only bridge between the sandboxed renderer and Electron: the EngineBridge of src/shared,
 * nothing else. Bundled into one CommonJS file that requires only electron.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC } from '../shared/channels';
import type { EngineBridge, HostMessage, HostRequest } from '../shared/protocol';

const bridge: EngineBridge = {
  send: (request: HostRequest) => ipcRenderer.send(IPC.request, request),
  onMessage(listener) {
    const handler = (_e: IpcRendererEvent, message: HostMessage): void => listener(message);
    ipcRenderer.on(IPC.message, handler);
    return () => ipcRenderer.removeListener(IPC.message, handler);
  },
  chooseModelFolder: () => ipcRenderer.invoke(IPC.chooseFolder) as Promise<string | null>,
  saveText: (name, text) => ipcRenderer.invoke(IPC.saveText, name, text) as Promise<boolean>,
};

contextBridge.exposeInMainWorld('specdec', bridge);
