import WebSocket from 'ws'
import { createCardfileClient } from '@cardfile/core'
import type { CardfileClient, ContactHandle, DocStatus } from '@cardfile/core'
import { BENCH_WORKSPACE } from './ipc'
import { within } from './stats'

/** Custom text attributes of the hooks benchmark's schema: the 50 rows of a contact panel. */
export const PANEL_ATTRIBUTES: readonly string[] = Array.from(
  { length: 50 },
  (_, index) => `field${String(index + 1).padStart(2, '0')}`,
)

/**
 * A Cardfile client as one page load runs it: real `ws` sockets, and its own IndexedDB copies
 * (fake-indexeddb) under `localPrefix`, so two clients with the same prefix share a cache as two
 * page loads in one browser do. `connect: false` keeps it offline (local copies only).
 *
 * @example
 * const client = hookClient(url, tokens.agent, 'page-1')
 */
export function hookClient(
  url: string,
  token: string,
  localPrefix: string,
  options: { readonly connect?: boolean } = {},
): CardfileClient {
  return createCardfileClient({
    url,
    workspace: BENCH_WORKSPACE,
    token,
    WebSocket,
    localPrefix,
    keepAliveMs: 20,
    connect: options.connect ?? true,
  })
}

/**
 * Resolves once `check()` holds, testing it now and on every notification of `subscribe`;
 * rejects after `ms`. No polling, no sleeps.
 */
export function until(
  check: () => boolean,
  subscribe: (listener: () => void) => () => void,
  ms: number,
  message: string,
): Promise<void> {
  let off: (() => void) | null = null
  const met = new Promise<void>((resolve) => {
    if (check()) {
      resolve()
      return
    }
    off = subscribe(() => {
      if (check()) resolve()
    })
  })
  return within(met, ms, message).finally(() => off?.())
}

/**
 * Resolves once a contact and its schema are synced with the server, saved, and their local
 * copies read. The last matters for a cache: y-indexeddb stores what arrived before its database
 * opened only when it has read the database, so a client torn down between the server's sync
 * and that read leaves no local copy behind.
 */
export function untilSettled(handle: ContactHandle, ms: number): Promise<void> {
  const settledDoc = (status: DocStatus): boolean =>
    status.status === 'synced' && status.saved && status.localLoaded
  const settled = (): boolean =>
    settledDoc(handle.status()) && settledDoc(handle.schemaHandle.status())
  return until(
    settled,
    (listener) => {
      const offContact = handle.subscribe(listener)
      const offSchema = handle.schemaHandle.subscribe(listener)
      return () => {
        offContact()
        offSchema()
      }
    },
    ms,
    `${handle.name} never synced, saved and read its local copy`,
  )
}

/**
 * Creates the 50 panel attributes as an admin, and waits until the server acknowledged them.
 *
 * @example
 * await seedPanelSchema(admin)
 */
export async function seedPanelSchema(admin: CardfileClient, ms: number): Promise<void> {
  const schema = admin.schema()
  try {
    await within(schema.whenSynced(), ms, 'the schema never synced')
    schema.transact(() => {
      PANEL_ATTRIBUTES.forEach((id, index) => {
        if (schema.schema.definition(id) === undefined) {
          schema.schema.createAttribute({ id, label: `Field ${index + 1}`, type: 'text' })
        }
      })
    })
    await until(
      () => schema.status().saved,
      (listener) => schema.subscribe(listener),
      ms,
      'the panel schema was never acknowledged as saved',
    )
  } finally {
    schema.release()
  }
}

/**
 * Fills every panel attribute of each contact (one transaction per contact), and waits until
 * the server acknowledged all of them.
 */
export async function seedContacts(
  writer: CardfileClient,
  ids: readonly string[],
  ms: number,
): Promise<void> {
  const handles = ids.map((id) => writer.contact(id))
  try {
    await within(
      Promise.all(handles.map((handle) => handle.whenSynced())),
      ms,
      'the seeded contacts never synced',
    )
    for (const handle of handles) {
      handle.transact(() => {
        for (const attribute of PANEL_ATTRIBUTES) {
          handle.setValue(attribute, `${handle.contactId} ${attribute}`)
        }
      })
    }
    await Promise.all(handles.map((handle) => untilSettled(handle, ms)))
  } finally {
    for (const handle of handles) handle.release()
  }
}
