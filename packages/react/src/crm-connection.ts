import { CardfileError, ErrorCodes, apiJson } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'

/**
 * Whether the workspace's CRM connection is configured and switched on: `on`, `off`, or
 * `unknown` until the server has said. Every role reads it from a contact's CRM status
 * (`GET /api/<ws>/contacts/<id>/crm`, its `connection`); a look-up by hand confirms it too (the
 * server refuses one with `plan-lacks-feature` while the connection is off).
 */
export type CrmConnection = 'on' | 'off' | 'unknown'

interface ConnectionStore {
  state: CrmConnection
  /** Bumped by every change, so that a read answered after a newer fact does not undo it. */
  version: number
  loading: Promise<void> | null
  readonly listeners: Set<() => void>
}

/** One store per client: every status line of a workspace shares what is known. */
const stores = new WeakMap<CardfileClient, ConnectionStore>()

const storeOf = (client: CardfileClient): ConnectionStore => {
  let store = stores.get(client)
  if (store === undefined) {
    store = { state: 'unknown', version: 0, loading: null, listeners: new Set() }
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
  store.version += 1
  if (store.state === state) return
  store.state = state
  for (const listener of [...store.listeners]) listener()
}

/** The connection, learnt from an error: `off` when the server says the CRM is off. */
export const connectionOfError = (error: unknown): CrmConnection | null =>
  error instanceof CardfileError && error.code === ErrorCodes.PlanLacksFeature ? 'off' : null

/** What `GET /api/<ws>/contacts/<id>/crm` says of the connection. */
interface ContactCrmAnswer {
  readonly connection?: { readonly configured?: unknown; readonly enabled?: unknown }
}

/**
 * Reads the connection from a contact's CRM status (any role), one request at a time per
 * client: the connection is the workspace's, so any contact's answer tells it. A failure other
 * than "no CRM on this plan" leaves what was known (internal).
 */
export function loadCrmConnection(client: CardfileClient, contactId: string): Promise<void> {
  const store = storeOf(client)
  const asked = store.version
  // A fact learnt while the read was out (a look-up's answer) is newer than the read's.
  const record = (state: CrmConnection) => {
    if (store.version === asked) setCrmConnection(client, state)
  }
  store.loading ??= apiJson<ContactCrmAnswer | null>(
    client,
    `/api/${encodeURIComponent(client.workspace)}/contacts/${encodeURIComponent(contactId)}/crm`,
  )
    .then(
      (answer) => {
        const connection = answer?.connection
        if (connection === undefined) return
        record(connection.configured === true && connection.enabled === true ? 'on' : 'off')
      },
      (error: unknown) => {
        const state = connectionOfError(error)
        if (state !== null) record(state)
      },
    )
    .finally(() => {
      store.loading = null
    })
  return store.loading
}
