import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { CloseCodes } from '@cardfile/core'
import type { Connection } from './connection'
import { errorContext } from './logger'
import type { ServerLogger } from './logger'

/**
 * Awareness client ids one connection may speak for. A replica uses one; Yjs gives a replica a
 * new one when it detects a clash, and a few tabs' worth of slack costs nothing.
 */
export const MAX_PRESENCE_IDS_PER_CONNECTION = 4

/** One entry of an awareness update, its state still encoded as JSON text. */
interface PresenceEntry {
  readonly clientId: number
  readonly clock: number
  readonly state: string
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function readEntries(update: Uint8Array): PresenceEntry[] {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  const entries: PresenceEntry[] = []
  for (let i = 0; i < count; i++) {
    entries.push({
      clientId: decoding.readVarUint(decoder),
      clock: decoding.readVarUint(decoder),
      state: decoding.readVarString(decoder),
    })
  }
  return entries
}

function writeEntries(entries: readonly PresenceEntry[]): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, entry.state)
  }
  return encoding.toUint8Array(encoder)
}

/** The client ids an awareness update sets (`present`) or removes, in order. Throws on a malformed update. */
export function presenceChanges(update: Uint8Array): { id: number; present: boolean }[] {
  return readEntries(update).map((entry) => ({
    id: entry.clientId,
    present: entry.state !== 'null',
  }))
}

/**
 * The state with the sender's identity written over whatever it claimed: `userId`, `name` and
 * `role` (what Cardfile's presence reads) and, when the state has a `user` object as stock
 * Yjs editors use, its `id` and `name`. Null when the state is not an object.
 */
function stamp(state: unknown, conn: Connection, docName: string): string | null {
  const actor = conn.actor
  if (!isRecord(state) || actor === null) return null
  const name = actor.name ?? actor.userId
  const stamped: Record<string, unknown> = {
    ...state,
    userId: actor.userId,
    name,
    role: actor.role,
  }
  if ('viewing' in state) stamped.viewing = docName
  if (isRecord(state.user)) stamped.user = { ...state.user, id: actor.userId, name }
  return JSON.stringify(stamped)
}

/** Whether `other` holds the same token identity as `conn` (a stale socket of the same user). */
const sameUser = (conn: Connection, other: Connection): boolean =>
  conn.actor !== null &&
  other.actor !== null &&
  conn.actor.userId === other.actor.userId &&
  conn.actor.workspace === other.actor.workspace

/**
 * Screens an awareness update from `conn` before it is applied, so that presence means what
 * the token says: an entry is kept only for a client id the connection owns (the first
 * connection to publish an id owns it until it drops or removes it; a later connection of the
 * same user may take it over, as a reconnecting tab does before the server noticed the old
 * socket died), at most {@link MAX_PRESENCE_IDS_PER_CONNECTION} ids per connection, and each
 * kept state has the sender's identity stamped over it. Entries for other users' ids, removals
 * of ids the connection does not own and non-object states are dropped. `owners` is the
 * document's map of id to owning connection and is updated here.
 *
 * Returns the update to apply, or null when nothing is left. Throws on a malformed update.
 *
 * @example
 * const screened = screenPresenceUpdate(update, conn, 'demo/contact/c1', owners)
 * if (screened !== null) applyAwarenessUpdate(awareness, screened, conn)
 */
export function screenPresenceUpdate(
  update: Uint8Array,
  conn: Connection,
  docName: string,
  owners: Map<number, Connection>,
): Uint8Array | null {
  const kept: PresenceEntry[] = []
  for (const entry of readEntries(update)) {
    const owner = owners.get(entry.clientId)
    const parsed: unknown = JSON.parse(entry.state)
    if (parsed === null) {
      // A removal: only the owner may take its own presence away.
      if (owner !== conn) continue
      owners.delete(entry.clientId)
      kept.push(entry)
      continue
    }
    const state = stamp(parsed, conn, docName)
    if (state === null) continue
    if (owner !== conn) {
      if (owner !== undefined && !sameUser(conn, owner)) continue
      const ids = conn.presenceState().ids
      if (ids.size >= MAX_PRESENCE_IDS_PER_CONNECTION) continue
      owner?.presence?.ids.delete(entry.clientId)
      owners.set(entry.clientId, conn)
      ids.add(entry.clientId)
    }
    kept.push({ ...entry, state })
  }
  return kept.length === 0 ? null : writeEntries(kept)
}

/**
 * Applies the awareness rate limit to one update from `conn`: `accept` hears it now, or, when
 * the sender is over its rate, the newest held-back update once a token is free (presence is
 * the latest state that matters, so older held-back ones are dropped). A malformed update
 * that `accept` throws on later closes the connection with 4400; thrown now, it reaches the
 * caller.
 */
export function throttlePresence(
  conn: Connection,
  update: Uint8Array,
  accept: (update: Uint8Array) => void,
  logger: ServerLogger,
): void {
  if (conn.takeAwarenessToken()) {
    accept(update)
    return
  }
  const presence = conn.presenceState()
  presence.deferred = update
  presence.deferredTimer ??= setTimeout(() => {
    presence.deferredTimer = null
    const deferred = presence.deferred
    presence.deferred = null
    if (deferred === null || !conn.open) return
    try {
      throttlePresence(conn, deferred, accept, logger)
    } catch (error) {
      logger.debug('malformed awareness update', errorContext(error))
      conn.close(CloseCodes.BadRequest)
    }
  }, conn.awarenessWaitMs())
}
