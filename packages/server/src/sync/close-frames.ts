import type { WebSocket } from 'ws'

/** How often sockets still writing are looked at again. */
const POLL_MS = 1

/**
 * Resolves once every socket has handed what it had to send, its close frame last, to the
 * operating system, or is closed. A socket that never drains is cut off by its connection's
 * close grace (`Connection.close`), which closes it here too.
 *
 * @example
 * await closeFramesSent(sockets) // after conn.close(...) on each
 */
export async function closeFramesSent(sockets: readonly WebSocket[]): Promise<void> {
  let writing = sockets
  for (;;) {
    writing = writing.filter((ws) => ws.readyState !== ws.CLOSED && ws.bufferedAmount > 0)
    if (writing.length === 0) return
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}
