import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { ContactIndexRow, IndexStore } from '../storage/index-store'
import type { ContactLinkRecord, LinkStorage } from './link-store'

/**
 * Link groups: the contacts that are one person across channels. A group is a connected
 * component of a graph over the workspace's contacts whose edges are
 * - automatic: two contacts with the same normalised value of the matching attribute, unless
 *   one of them is detached (an agent unlinked it from a contact with that value);
 * - manual: a `link` record between two contacts, whatever their values.
 * X and Instagram need no edge: their platform user id is the channel identity, so every
 * message of one user, through any of the brand's accounts, lands on one contact already.
 *
 * Groups are computed when asked, from the index: a changed value or matching attribute changes
 * the index row, and the next question sees the new group. Nothing to keep in step.
 */

/** Most members a group is expanded to; a matching value shared by more is not a person. */
export const MAX_GROUP_SIZE = 1000

/** A contact's link group. */
export interface LinkGroup {
  /** The contact asked about. */
  readonly contact: ContactIndexRow
  /** Every member, the contact included, newest first. */
  readonly members: readonly ContactIndexRow[]
  /** Manual records between members (or from a member to a contact it was unlinked from). */
  readonly records: readonly ContactLinkRecord[]
  /** True when the group was cut at `MAX_GROUP_SIZE` contacts (the server's limit). */
  readonly truncated: boolean
}

/** The other contact of a pair record. */
export const otherOf = (r: ContactLinkRecord, id: string): string => (r.a === id ? r.b : r.a)

/** A pair in stored order (a < b). */
export const orderedPair = (x: string, y: string): readonly [string, string] =>
  x < y ? [x, y] : [y, x]

const newestFirst = (a: ContactIndexRow, b: ContactIndexRow): number =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/**
 * Computes a contact's link group from the index.
 *
 * @example
 * const group = await linkGroup(backend.index, backend.links, 'demo', 'c1')
 * group.members.map((m) => m.channel) // ['email', 'whatsapp', 'x']
 */
export async function linkGroup(
  index: IndexStore,
  links: LinkStorage,
  workspace: string,
  contactId: string,
  maxSize: number = MAX_GROUP_SIZE,
): Promise<LinkGroup> {
  const rows = new Map<string, ContactIndexRow>()
  const recordsOf = new Map<string, ContactLinkRecord[]>()
  const classes = new Map<string, ContactIndexRow[]>()

  /** Loads rows and records of the ids not known yet. */
  const load = async (ids: Iterable<string>): Promise<void> => {
    const missingRows = [...ids].filter((id) => !rows.has(id))
    for (const row of await links.contactsByIds(workspace, missingRows)) rows.set(row.id, row)
    const missingRecords = [...ids].filter((id) => !recordsOf.has(id))
    if (missingRecords.length === 0) return
    for (const id of missingRecords) recordsOf.set(id, [])
    for (const r of await links.linksOf(workspace, missingRecords)) {
      recordsOf.get(r.a)?.push(r)
      if (r.b !== r.a) recordsOf.get(r.b)?.push(r)
    }
    // Detachment needs the value of the contact each unlink names.
    const others = missingRecords.flatMap((id) =>
      (recordsOf.get(id) ?? []).filter((r) => r.kind === 'unlink').map((r) => otherOf(r, id)),
    )
    const unknown = others.filter((id) => !rows.has(id))
    for (const row of await links.contactsByIds(workspace, unknown)) rows.set(row.id, row)
  }

  /** Contacts sharing a matching value, up to the cap. */
  const valueClass = async (value: string): Promise<ContactIndexRow[]> => {
    const known = classes.get(value)
    if (known !== undefined) return known
    const members: ContactIndexRow[] = []
    let cursor: string | null = null
    do {
      const page = await index.listContacts(workspace, { matchValue: value, limit: 1000, cursor })
      members.push(...page.items)
      cursor = page.next
    } while (cursor !== null && members.length <= maxSize)
    for (const m of members) if (!rows.has(m.id)) rows.set(m.id, m)
    classes.set(value, members)
    return members
  }

  /** Unlinked from a contact with its own value: out of automatic linking by that value. */
  const detached = (row: ContactIndexRow): boolean =>
    row.matchValue !== null &&
    (recordsOf.get(row.id) ?? []).some(
      (r) =>
        r.kind === 'unlink' &&
        r.subject === row.id &&
        rows.get(otherOf(r, row.id))?.matchValue === row.matchValue,
    )

  await load([contactId])
  const start = rows.get(contactId)
  if (start === undefined) {
    throw new CardfileError(
      ErrorCodes.NotFound,
      `no contact ${contactId} in workspace ${workspace}`,
    )
  }

  const members = new Map<string, ContactIndexRow>([[contactId, start]])
  let frontier = [start]
  let truncated = false
  while (frontier.length > 0 && !truncated) {
    const next: string[] = []
    for (const row of frontier) {
      if (row.matchValue !== null && !detached(row)) {
        const peers = await valueClass(row.matchValue)
        await load(peers.map((p) => p.id))
        for (const peer of peers) {
          if (!members.has(peer.id) && !detached(peer)) next.push(peer.id)
        }
      }
      for (const r of recordsOf.get(row.id) ?? []) {
        if (r.kind === 'link') next.push(otherOf(r, row.id))
      }
    }
    const fresh = [...new Set(next)].filter((id) => !members.has(id))
    await load(fresh)
    frontier = []
    for (const id of fresh) {
      const row = rows.get(id)
      // A link to an erased contact names nobody.
      if (row === undefined) continue
      if (members.size >= maxSize) {
        truncated = true
        break
      }
      members.set(id, row)
      frontier.push(row)
    }
  }

  const records = new Map<string, ContactLinkRecord>()
  for (const id of members.keys()) {
    for (const r of recordsOf.get(id) ?? []) records.set(`${r.a}\u0000${r.b}`, r)
  }
  return {
    contact: start,
    members: [...members.values()].sort(newestFirst),
    records: [...records.values()],
    truncated,
  }
}
