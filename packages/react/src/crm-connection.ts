import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'

/**
 * Whether the workspace's CRM connection is configured and switched on: `on`, `off`, or
 * `unknown` until the server has said. Every role reads it from a contact's CRM status
 * (`GET /api/<ws>/contacts/<id>/crm`, its `connection`, a list the server pushes changes of); a
 * look-up by hand confirms it too (the server refuses one with `plan-lacks-feature` while the
 * connection is off).
 */
export type CrmConnection = 'on' | 'off' | 'unknown'

interface ConnectionStore {
  state: CrmConnection
  readonly listeners: Set<() => void>
}

/** One store per client: every status line of a workspace shares what is known. */
const stores = new WeakMap<CardfileClient, ConnectionStore>()

const storeOf = (client: CardfileClient): ConnectionStore => {
  let store = stores.get(client)
  if (store === undefined) {
    store = { state: 'unknown', listeners: new Set() }
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
