/// <reference types="svelte" />
/// <reference types="vite/client" />

import type { EngineBridge } from '../../shared/protocol';

declare global {
  interface Window {
    /** Electron's preload API (absent in a browser, where the WebSocket bridge is used) */
    specdec?: Partial<EngineBridge>;
  }
}
