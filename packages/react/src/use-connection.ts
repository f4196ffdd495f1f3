import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react'
import type { ConnectionEvent, ConnectionStatus } from '@cardfile/core'
import { useCardfileClient } from './context'

/**
 * The client's connection as a status line should show it (see `ConnectionStatus`): `idle`
 * when nothing is open, `connecting`, `syncing`, `synced`, `reconnecting` after a drop,
 * `needs-token` when the server refused the token, `offline` after `client.disconnect()`.
 * Re-renders only when the status changes. On the server (SSR) it is `idle`.
 *
 * @example
 * function ConnectionBadge() {
 *   const status = useConnectionStatus()
 *   if (status === 'needs-token') return <SignInAgain />
 *   return <span>{status === 'synced' ? 'Live' : status}</span>
 * }
 */
export function useConnectionStatus(): ConnectionStatus {
  const client = useCardfileClient()
  const subscribe = useCallback((onChange: () => void) => client.subscribe(onChange), [client])
  return useSyncExternalStore(
    subscribe,
    () => client.connectionStatus(),
    () => 'idle',
  )
}

/**
 * Calls `callback` when a live connection is lost (`lost`), when everything is synced again
 * after a loss (`restored`), and when the server refuses the token (`needs-token`). The latest
 * callback is called; it need not be memoised.
 *
 * @example
 * function ConnectionToasts() {
 *   const client = useCardfileClient()
 *   useLostConnectionListener((event) => {
 *     if (event === 'lost') toast('Connection lost: edits are kept on this device')
 *     if (event === 'restored') toast('Back online')
 *     if (event === 'needs-token') void client.refreshToken()
 *   })
 *   return null
 * }
 */
export function useLostConnectionListener(callback: (event: ConnectionEvent) => void): void {
  const client = useCardfileClient()
  const latest = useRef(callback)
  useEffect(() => {
    latest.current = callback
  })
  useEffect(() => client.onConnectionEvent((event) => latest.current(event)), [client])
}
