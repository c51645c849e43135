/**
 * What cannot run here (the Electron binary) but must be right on a user's machine: the window's
 * security options, the CSP, and the shape of the built main and preload bundles.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mainWindowOptions } from '../../src/main/windowOptions';
import { CONTENT_SECURITY_POLICY } from '../../src/shared/csp';
import { ROOT } from '../support/helpers';

const OUT = join(ROOT, 'out');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

describe('the main window', () => {
  it('isolates the renderer: contextIsolation, sandbox, no node integration', () => {
    const { webPreferences } = mainWindowOptions('/x/preload.cjs');
    expect(webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('has a strict CSP with no remote sources, in the built page', () => {
    const html = readFileSync(join(OUT, 'renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|\*\.|'unsafe-eval'/);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    // no remote scripts, styles or fonts in the built page
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('blocks navigation, new windows and permission requests', () => {
    const main = readFileSync(join(OUT, 'main', 'index.js'), 'utf8');
    expect(main).toContain('will-navigate');
    expect(main).toMatch(/setWindowOpenHandler[\s\S]*action: "deny"/);
    expect(main).toMatch(/setPermissionRequestHandler\([^)]*\)\s*=>\s*callback\(false\)/);
  });
});

describe('the build output', () => {
  it('has a sandbox-ready preload: one CommonJS file that requires only electron', () => {
    const files = readdirSync(join(OUT, 'preload'));
    expect(files).toEqual(['index.cjs']);
    const code = readFileSync(join(OUT, 'preload', 'index.cjs'), 'utf8');
    expect(code).not.toMatch(/^\s*(import|export)\s/m);
    const required = [...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    expect(new Set(required)).toEqual(new Set(['electron']));
    expect(code).toContain('exposeInMainWorld');
  });

  it('points the main process at the preload file actually emitted', () => {
    const main = readFileSync(join(OUT, 'main', 'index.js'), 'utf8');
    const ref = /join\(__dirname, "(\.\.\/preload\/[^"]+)"\)/.exec(main)?.[1];
    expect(ref).toBe('../preload/index.cjs');
    expect(existsSync(join(OUT, 'main', ref!))).toBe(true);
  });

  it('starts the engine host from a path electron-vite emitted, and keeps native deps external', () => {
    const mainFiles = readdirSync(join(OUT, 'main'), { recursive: true }).map(String);
    const hostFile = mainFiles.find((f) => /engineHostEntry.*\.js$/.test(f));
    expect(hostFile).toBeDefined();
    const host = readFileSync(join(OUT, 'main', hostFile!), 'utf8');
    for (const dep of ['onnxruntime-node', '@huggingface/transformers']) {
      expect(pkg.dependencies[dep]).toBeDefined();
      expect(host).toMatch(new RegExp(`from "${dep.replace('/', '\\/')}"`));
    }
    expect(host).not.toContain('InferenceSession.create = '); // not bundled in
    const main = readFileSync(join(OUT, 'main', 'index.js'), 'utf8');
    expect(main).toContain(hostFile!.split('/').pop());
  });
});
