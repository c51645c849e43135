/** electron-builder must keep native code and the model folders out of the asar. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/helpers';

interface BuilderConfig {
  asarUnpack: string[];
  extraResources: Array<{ from: string; to: string }>;
  files: string[];
}
const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

describe('electron-builder configuration', () => {
  it("unpacks onnxruntime-node's binding and shared libraries from the asar", () => {
    for (const pattern of ['**/*.node', '**/*.so', '**/*.so.*', '**/*.dylib', '**/*.dll']) {
      expect(config.asarUnpack).toContain(pattern);
    }
  });

  it('ships the embedded pair outside the asar where the main process looks for it', () => {
    expect(config.extraResources).toContainEqual(
      expect.objectContaining({ from: 'resources/models', to: 'models' }),
    );
    const main = readFileSync(join(ROOT, 'src', 'main', 'index.ts'), 'utf8');
    expect(main).toContain("join(process.resourcesPath, 'models', 'brown-pair')");
    expect(config.files).toContain('out/**');
  });
});
