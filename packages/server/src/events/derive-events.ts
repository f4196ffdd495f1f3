import type { Actor, ConversationStatus, DocName, Refusal } from '@cardfile/core'
import * as Y from 'yjs'
import { writtenKeys } from '../crm/written-keys'
import { matchingAttributeOf } from '../linking/matching'
import { vipActiveIn } from '../routing/vip-state'
import type { EventActor, NewDomainEvent } from './domain-event'

/**
 * What a document's state says that events are derived from, kept by the live document from
 * one commit to the next. A commit's events are the difference between the facts before and
 * after it, so they follow from committed states alone: a reload recomputes the facts from
 * storage and nothing is announced twice or skipped.
 */
export type DocumentFacts =
  | { readonly kind: 'schema'; readonly matching: string | null; readonly vip: boolean }
  | { readonly kind: 'contact'; readonly exists: boolean; readonly vip: boolean }
  | {
      readonly kind: 'conversation'
      readonly contactId: string | null
      readonly status: ConversationStatus | null
    }

const STATUSES: readonly ConversationStatus[] = ['new', 'pending', 'resolved']

const fieldValue = (entry: unknown): unknown =>
  typeof entry === 'object' && entry !== null && 'value' in entry ? entry.value : undefined

/**
 * The facts of a document as it stands.
 *
 * @example
 * factsOf({ kind: 'contact', workspace: 'demo', id: 'c1' }, doc) // { kind: 'contact', exists: true, vip: false }
 */
export function factsOf(name: DocName, doc: Y.Doc): DocumentFacts {
  switch (name.kind) {
    case 'schema':
      return { kind: 'schema', matching: matchingAttributeOf(doc), vip: vipActiveIn(doc) }
    case 'contact':
      return {
        kind: 'contact',
        exists: typeof doc.getMap('profile').get('channel') === 'string',
        vip: fieldValue(doc.getMap('flags').get('vip')) === true,
      }
    case 'conversation': {
      const meta = doc.getMap('meta')
      const contactId = meta.get('contactId')
      const status = meta.get('status')
      return {
        kind: 'conversation',
        contactId: typeof contactId === 'string' ? contactId : null,
        status: STATUSES.find((s) => s === status) ?? null,
      }
    }
  }
}

const actorOf = (actor: Actor | null): EventActor | null =>
  actor === null ? null : { userId: actor.userId, role: actor.role }

/** What one commit announces, and the facts after it. */
export interface CommitEvents {
  readonly facts: DocumentFacts
  readonly events: NewDomainEvent[]
}

/**
 * Derives the events of one commit of `update` (which `doc` already holds) from the facts
 * before it.
 *
 * @example
 * const { facts, events } = eventsOfCommit(name, doc, before, update, actor, refusals, Date.now())
 */
export function eventsOfCommit(
  name: DocName,
  doc: Y.Doc,
  before: DocumentFacts,
  update: Uint8Array,
  actor: Actor | null,
  refusals: readonly Refusal[],
  at: number,
): CommitEvents {
  const facts = factsOf(name, doc)
  const events: NewDomainEvent[] = []
  const by = actorOf(actor)
  const base = { workspace: name.workspace, actor: by, at }
  if (facts.kind === 'schema' && before.kind === 'schema') {
    if (facts.matching !== before.matching) {
      events.push({
        ...base,
        type: 'workspace.matching-changed',
        subject: '',
        data: { attribute: facts.matching },
      })
    }
    if (facts.vip !== before.vip) {
      events.push({
        ...base,
        type: 'workspace.vip-changed',
        subject: '',
        data: { active: facts.vip },
      })
    }
  } else if (facts.kind === 'contact' && before.kind === 'contact' && name.kind === 'contact') {
    const refused = new Set(refusals.map((r) => `${r.map}:${r.key}`))
    const created = facts.exists && !before.exists
    if (facts.exists) {
      // Parsed once for both maps: parsing decodes every value the update carries.
      const clocks = Y.parseUpdateMeta(update)
      const custom = writtenKeys(doc, clocks, 'custom').filter((k) => !refused.has(`custom:${k}`))
      const platform = writtenKeys(doc, clocks, 'platform').filter(
        (k) => !refused.has(`platform:${k}`),
      )
      events.push({
        ...base,
        type: 'contact.changed',
        subject: name.id,
        data: { custom, platform, created },
      })
    }
    if (facts.exists && facts.vip !== before.vip) {
      events.push({
        ...base,
        type: 'contact.vip-changed',
        subject: name.id,
        data: { vip: facts.vip },
      })
    }
  } else if (
    facts.kind === 'conversation' &&
    before.kind === 'conversation' &&
    name.kind === 'conversation' &&
    facts.contactId !== null
  ) {
    if (before.contactId === null) {
      events.push({
        ...base,
        type: 'conversation.started',
        subject: name.id,
        data: { contactId: facts.contactId },
      })
    } else if (before.status !== null && facts.status !== null && before.status !== facts.status) {
      events.push({
        ...base,
        type: 'conversation.status-changed',
        subject: name.id,
        data: { contactId: facts.contactId, from: before.status, to: facts.status },
      })
    }
  }
  return { facts, events }
}
