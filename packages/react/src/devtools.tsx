import { useCallback, useRef, useSyncExternalStore } from 'react'
import type { CSSProperties } from 'react'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { CardfileClient, ClientInspection } from '@cardfile/core'
import { useOptionalCardfileClient } from './context'

/** Props of {@link CardfileDevtools}. */
export interface CardfileDevtoolsProps {
  /** The client to inspect; defaults to the one of the nearest `CardfileProvider`. */
  readonly client?: CardfileClient
  /** Styles of the panel (by default a scrollable box fixed to the bottom right corner). */
  readonly style?: CSSProperties
}

const PANEL: CSSProperties = {
  position: 'fixed',
  right: 8,
  bottom: 8,
  zIndex: 2147483647,
  maxWidth: 640,
  maxHeight: '45vh',
  overflow: 'auto',
  padding: 8,
  font: '12px/1.4 ui-monospace, monospace',
  color: '#e8e8e8',
  background: 'rgba(20, 20, 24, 0.94)',
  borderRadius: 6,
}

const CELL: CSSProperties = { padding: '0 6px', textAlign: 'left', verticalAlign: 'top' }

/**
 * Keeps the latest `client.inspect()` for React: a new report only after the client said
 * something changed, so renders between changes get the same object.
 */
function useInspection(client: CardfileClient): ClientInspection | null {
  const cache = useRef<ClientInspection | null>(null)
  const stale = useRef(true)
  const subscribe = useCallback(
    (onChange: () => void) => {
      const changed = (): void => {
        stale.current = true
        onChange()
      }
      const offChange = client.subscribe(changed)
      const offError = client.onError(changed)
      return () => {
        offChange()
        offError()
      }
    },
    [client],
  )
  const getSnapshot = (): ClientInspection => {
    if (stale.current || cache.current === null || cache.current.workspace !== client.workspace) {
      cache.current = client.inspect()
      stale.current = false
    }
    return cache.current
  }
  return useSyncExternalStore(subscribe, getSnapshot, () => null)
}

/**
 * A panel showing what the Cardfile client is doing: the connection status and whether its
 * documents share one socket, each open document with its load source, sync state, pending and
 * acknowledged changes, handles, presence and last error, the recent refusals and errors, and
 * the live lists on screen. Import it from
 * `@cardfile/react/devtools` so it is loaded only when asked for (for example behind a flag or
 * in development builds); it renders nothing during server rendering.
 *
 * @example
 * import { CardfileDevtools } from '@cardfile/react/devtools'
 *
 * <CardfileProvider client={client}>
 *   <App />
 *   {import.meta.env.DEV && <CardfileDevtools />}
 * </CardfileProvider>
 */
export function CardfileDevtools({ client: given, style }: CardfileDevtoolsProps) {
  const fromContext = useOptionalCardfileClient()
  const client = given ?? fromContext
  if (client === null) {
    throw new CardfileError(
      ErrorCodes.BadRequest,
      'CardfileDevtools needs a client: a <CardfileProvider> or the client prop',
    )
  }
  const report = useInspection(client)
  if (report === null) return null
  return (
    <section
      aria-label="Cardfile devtools"
      data-testid="cardfile-devtools"
      style={{ ...PANEL, ...style }}
    >
      <header>
        <strong>Cardfile</strong> {report.workspace} · {report.actor?.userId ?? 'no user'} ·{' '}
        <span data-testid="devtools-connection">{report.connection}</span> ·{' '}
        <span data-testid="devtools-transport">
          {report.transport === 'mux' ? 'one socket' : report.transport}
        </span>
      </header>
      <table>
        <caption style={{ textAlign: 'left' }}>Open documents</caption>
        <thead>
          <tr>
            {[
              'document',
              'source',
              'status',
              'pending',
              'acked',
              'handles',
              'presence',
              'error',
            ].map((h) => (
              <th key={h} style={CELL}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {report.documents.map((d) => (
            <tr key={d.name} data-doc={d.name}>
              <td style={CELL}>{d.name}</td>
              <td style={CELL} data-cell="source">
                {d.status.source}
              </td>
              <td style={CELL} data-cell="status">
                {d.status.purged ? 'purged' : d.status.needsToken ? 'needs-token' : d.status.status}
              </td>
              <td style={CELL} data-cell="pending">
                {d.status.pending}
              </td>
              <td style={CELL} data-cell="acknowledged">
                {d.acknowledged}
              </td>
              <td style={CELL}>{d.handles}</td>
              <td style={CELL} data-cell="presence">
                {d.presence.map((p) => p.name).join(', ')}
              </td>
              <td style={CELL}>{d.error?.code ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p style={{ margin: '6px 0 0' }}>Recent refusals and errors</p>
      <ul data-testid="devtools-errors" style={{ margin: 0, paddingLeft: 16 }}>
        {report.recentErrors.map((e, i) => (
          <li key={`${e.at}-${i}`}>
            {new Date(e.at).toLocaleTimeString()} {e.docName}: <code>{e.error.code}</code>{' '}
            {e.error.field ?? ''} {e.error.message}
          </li>
        ))}
      </ul>
      <p style={{ margin: '6px 0 0' }}>Live lists</p>
      <ul data-testid="devtools-lists" style={{ margin: 0, paddingLeft: 16 }}>
        {report.lists.map((l) => (
          <li key={l.path}>
            {l.path} ({l.subscribers})
          </li>
        ))}
      </ul>
    </section>
  )
}
