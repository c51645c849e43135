import { HostMessage } from '../../../shared/protocol';

/** Every message from the host is checked against the protocol before the UI sees it. */
export function parseHostMessage(data: unknown): HostMessage | null {
  const parsed = HostMessage.safeParse(data);
  if (parsed.success) return parsed.data;
  console.warn('Dropped a message outside the protocol:', parsed.error.issues[0]?.message);
  return null;
}
