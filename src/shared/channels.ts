/** Electron IPC channel names, declared once (imported by main and the sandboxed preload). */
export const IPC = {
  request: 'specdec:request',
  message: 'specdec:message',
  chooseFolder: 'specdec:choose-folder',
  saveText: 'specdec:save-text',
} as const;
