/**
 * Request ids. crypto.randomUUID is missing outside secure contexts (the serve mode opened over a
 * LAN address with plain http), so ids are a time stamp, a counter and a random tail instead.
 */
let counter = 0;

export function newRequestId(prefix: string): string {
  counter += 1;
  const tail = Math.floor(Math.random() * 0xffffff).toString(36);
  return `${prefix}-${Date.now().toString(36)}-${counter}-${tail}`;
}
