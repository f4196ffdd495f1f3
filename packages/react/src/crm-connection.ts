import { CardfileError, ErrorCodes, apiJson } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'

/**
 * Whether the workspace's CRM connection is configured and switched on: `on`, `off`, or
 * `unknown` while nobody has said. Only admins may read the connection
 * (`GET /api/<ws>/crm/config`); for agents it is learnt from their own look-ups (the server
 * refuses one with `plan-lacks-feature` while the connection is off).
 */
export type CrmConnection = 'on' | 'off' | 'unknown'

interface ConnectionStore {
  state: CrmConnection
  loading: Promise<void> | null
  readonly listeners: Set<() => void>
}

/** One store per client: every status line of a workspace shares what is known. */
const stores = new WeakMap<CardfileClient, ConnectionStore>()

const storeOf = (client: CardfileClient): ConnectionStore => {
  let store = stores.get(client)
  if (store === undefined) {
    store = { state: 'unknown', loading: null, listeners: new Set() }
    stores.set(client, store)
  }
  return store
}

/** The connection as last known on this client (internal). */
export const crmConnection = (client: CardfileClient): CrmConnection => storeOf(client).state

/** Listens to changes of {@link crmConnection} (internal). */
export function onCrmConnection(client: CardfileClient, listener: () => void): () => void {
  const { listeners } = storeOf(client)
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** Records what a response said about the connection (internal). */
export function setCrmConnection(client: CardfileClient, state: CrmConnection): void {
  const store = storeOf(client)
  if (store.state === state) return
  store.state = state
  for (const listener of [...store.listeners]) listener()
}

/** The connection, learnt from an error: `off` when the server says the CRM is off. */
export const connectionOfError = (error: unknown): CrmConnection | null =>
  error instanceof CardfileError && error.code === ErrorCodes.PlanLacksFeature ? 'off' : null

/**
 * Reads the connection from the admin endpoint (admins only), one request at a time per
 * client. A failure other than "no CRM on this plan" leaves what was known.
 */
export function loadCrmConnection(client: CardfileClient): Promise<void> {
  const store = storeOf(client)
  store.loading ??= apiJson<{ configured: boolean; enabled: boolean }>(
    client,
    `/api/${encodeURIComponent(client.workspace)}/crm/config`,
  )
    .then(
      (config) => setCrmConnection(client, config.configured && config.enabled ? 'on' : 'off'),
      (error: unknown) => {
        const state = connectionOfError(error)
        if (state !== null) setCrmConnection(client, state)
      },
    )
    .finally(() => {
      store.loading = null
    })
  return store.loading
}
