import { isChannelId, parseDocName } from '@cardfile/core'
import type { ConversationStatus } from '@cardfile/core'
import type * as Y from 'yjs'
import type { ContactIndexRow, ConversationIndexRow, IndexRow } from '../storage/index-store'
import { normaliseMatchValue } from '../linking/normalise'
import { matchValueOf, matchingAttributeOf } from '../linking/matching'

export { normaliseMatchValue }

const STATUSES: readonly ConversationStatus[] = ['new', 'pending', 'resolved']

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** The `value` of a stored FieldValue, or undefined when the entry is not one. */
const fieldValue = (entry: unknown): unknown =>
  typeof entry === 'object' && entry !== null && 'value' in entry ? entry.value : undefined

/**
 * The contact's string values by attribute id, platform and custom (ids never collide: both
 * kinds are defined in the one schema map).
 */
function contactValues(doc: Y.Doc): Record<string, string> {
  const values: Record<string, string> = {}
  for (const mapName of ['platform', 'custom'] as const) {
    for (const [id, entry] of doc.getMap(mapName).entries()) {
      const v = fieldValue(entry)
      if (typeof v === 'string') values[id] = v
    }
  }
  return values
}

/**
 * Derives a contact's index row from its document (and the workspace's schema document, for
 * the matching attribute). Null while the contact has no complete profile yet.
 *
 * @example
 * const row = contactIndexRow('demo', 'c1', contactDoc, schemaDoc, Date.now())
 */
export function contactIndexRow(
  workspace: string,
  id: string,
  doc: Y.Doc,
  schema: Y.Doc | null,
  now: number,
): ContactIndexRow | null {
  const profile = doc.getMap('profile')
  const channel = profile.get('channel')
  const platformUserId = str(profile.get('platformUserId'))
  if (!isChannelId(channel) || platformUserId === null) return null
  const vip = fieldValue(doc.getMap('flags').get('vip')) === true
  const values = contactValues(doc)
  const matchValue = matchValueOf(values, matchingAttributeOf(schema))
  return {
    kind: 'contact',
    workspace,
    id,
    channel,
    platformUserId,
    hint: str(profile.get('hint')) ?? '',
    vip,
    matchValue,
    values,
    createdAt: num(profile.get('createdAt')) ?? now,
    updatedAt: now,
  }
}

/**
 * Derives a conversation's index row from its document. Null until its metadata names the
 * contact and channel.
 *
 * @example
 * const row = conversationIndexRow('demo', 'v1', conversationDoc, Date.now())
 */
export function conversationIndexRow(
  workspace: string,
  id: string,
  doc: Y.Doc,
  now: number,
): ConversationIndexRow | null {
  const meta = doc.getMap('meta')
  const contactId = str(meta.get('contactId'))
  const channel = meta.get('channel')
  if (contactId === null || !isChannelId(channel)) return null
  const status = meta.get('status')
  return {
    kind: 'conversation',
    workspace,
    id,
    contactId,
    channel,
    status: STATUSES.find((s) => s === status) ?? 'new',
    team: str(meta.get('team')),
    priority: num(meta.get('priority')) ?? 0,
    createdAt: num(meta.get('createdAt')) ?? now,
    updatedAt: now,
  }
}

/**
 * The index row of any document (none for the schema or an incomplete document).
 *
 * @example
 * const row = indexRowFor('demo/contact/c1', doc, schemaDoc)
 */
export function indexRowFor(
  docName: string,
  doc: Y.Doc,
  schema: Y.Doc | null,
  now = Date.now(),
): IndexRow | undefined {
  const name = parseDocName(docName)
  if (name === null || name.kind === 'schema') return undefined
  const row =
    name.kind === 'contact'
      ? contactIndexRow(name.workspace, name.id, doc, schema, now)
      : conversationIndexRow(name.workspace, name.id, doc, now)
  return row ?? undefined
}
