/**
 * Which bridge the renderer talks through: Electron's preload API when the page runs in the app,
 * the serve mode's WebSocket otherwise. Both implement the EngineBridge contract of src/shared;
 * the rest of the UI sees only StudioBridge.
 */
import type { EngineBridge } from '../../shared/protocol';
import { parseHostMessage } from './lib/hostMessage';
import { WebSocketBridge } from './webSocketBridge';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface Connection {
  state: ConnectionState;
  /** when closed: milliseconds until the next attempt */
  retryInMs: number | null;
}

export interface StudioBridge extends EngineBridge {
  /** electron: folders are picked with a dialog; browser: typed as paths on the server */
  readonly kind: 'electron' | 'browser';
  /** called now with the current state and on every change; returns an unsubscribe function */
  onConnection(listener: (connection: Connection) => void): () => void;
}

function isEngineBridge(api: Partial<EngineBridge> | undefined): api is EngineBridge {
  return (
    typeof api?.send === 'function' &&
    typeof api.onMessage === 'function' &&
    typeof api.chooseModelFolder === 'function' &&
    typeof api.saveText === 'function'
  );
}

/** Electron's IPC is always there while the window lives: the connection is always open. */
function electronBridge(api: EngineBridge): StudioBridge {
  return {
    kind: 'electron',
    send: (request) => api.send(request),
    onMessage: (listener) =>
      api.onMessage((data) => {
        const message = parseHostMessage(data);
        if (message) listener(message);
      }),
    chooseModelFolder: () => api.chooseModelFolder(),
    saveText: (name, text) => api.saveText(name, text),
    onConnection(listener) {
      listener({ state: 'open', retryInMs: null });
      return () => {};
    },
  };
}

export function webSocketUrl(loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export function selectBridge(): StudioBridge {
  const api = window.specdec;
  if (isEngineBridge(api)) return electronBridge(api);
  return new WebSocketBridge(webSocketUrl());
}
