/** Electron main: owns the window, dialogs and the engine host; security defaults on. */
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IPC } from '../shared/channels';
import { EngineHostProcess } from './engineHostProcess';
import { mainWindowOptions } from './windowOptions';

let win: BrowserWindow | null = null;

function pairDir(): string {
  return app.isPackaged
    ? join(process.resourcesPath, 'models', 'brown-pair')
    : join(app.getAppPath(), 'resources', 'models', 'brown-pair');
}

const host = new EngineHostProcess(
  {
    dataDir: app.getPath('userData'),
    embeddedPair: { target: join(pairDir(), 'target'), draft: join(pairDir(), 'draft') },
  },
  (message) => win?.webContents.send(IPC.message, message),
);

function fromOurWindow(event: Electron.IpcMainEvent | Electron.IpcMainInvokeEvent): boolean {
  return win !== null && event.sender === win.webContents;
}

function createWindow(): void {
  win = new BrowserWindow(mainWindowOptions(join(__dirname, '../preload/index.cjs')));
  win.once('ready-to-show', () => win?.show());
  win.webContents.on('did-finish-load', () => host.replayReady());
  win.on('closed', () => (win = null));
  // No navigation away from the app and no new windows; https links open in the system browser.
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (!app.isPackaged && process.env.ELECTRON_RENDERER_URL)
    void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(__dirname, '../renderer/index.html'));
}

ipcMain.on(IPC.request, (event, request: unknown) => {
  if (fromOurWindow(event)) host.send(request);
});
ipcMain.handle(IPC.chooseFolder, async (event) => {
  if (!fromOurWindow(event) || !win) return null;
  const r = await dialog.showOpenDialog(win, {
    title: 'Choose a model folder (config.json, tokenizer.json, onnx/model.onnx)',
    properties: ['openDirectory'],
  });
  return r.canceled ? null : (r.filePaths[0] ?? null);
});
ipcMain.handle(IPC.saveText, async (event, name: unknown, text: unknown) => {
  if (!fromOurWindow(event) || !win || typeof name !== 'string' || typeof text !== 'string')
    return false;
  const r = await dialog.showSaveDialog(win, {
    defaultPath: name,
    filters: name.toLowerCase().endsWith('.md')
      ? [{ name: 'Markdown', extensions: ['md'] }]
      : [{ name: 'CSV', extensions: ['csv'] }],
  });
  if (r.canceled || !r.filePath) return false;
  await writeFile(r.filePath, text, 'utf8');
  return true;
});

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) =>
    callback(false),
  );
  host.start();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-attach-webview', (e) => e.preventDefault());
});
app.on('before-quit', () => host.stop());
app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
