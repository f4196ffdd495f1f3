import { randomUUID } from 'node:crypto'
import {
  CardfileError,
  ContactDoc,
  ErrorCodes,
  contactDocName,
  conversationDocName,
} from '@cardfile/core'
import type { ContactProfile } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import { within } from '../http/within'
import type { Backend } from '../backend'
import { errorForConsole } from '../sync/logger'
import type { ContactErasureHook, ErasureBarrier } from './contact-erasure'
import type { DeletionLog, DeletionRecord } from './deletion-log'

/** What a contact deletion needs from the server. */
export interface ContactDeletionContext {
  readonly host: DocumentHost
  readonly backend: Backend
  readonly log: DeletionLog
  /**
   * Passed before the erasure and released after its seal (exports: snapshots that may hold
   * the contact are cancelled, the others waited for, and none opens meanwhile).
   */
  readonly barriers?: readonly ErasureBarrier[]
  readonly hooks?: readonly ContactErasureHook[]
  /** Told about a hook that failed (the deletion itself still stands). */
  readonly onError?: (error: unknown) => void
}

/** The admin who deletes. */
export interface DeletingAdmin {
  readonly userId: string
  readonly name?: string | undefined
}

/** Conversations per page while collecting a contact's history. */
const PAGE = 1000
/** Rounds of "erase what appeared meanwhile" before giving up (an inbound storm). */
const MAX_ROUNDS = 5

async function conversationsOf(
  backend: Backend,
  workspace: string,
  contactId: string,
): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page = await backend.index.listConversations(workspace, {
      contactIds: [contactId],
      order: 'newest',
      limit: PAGE,
      cursor,
    })
    ids.push(...page.items.map((row) => row.id))
    cursor = page.next
  } while (cursor !== null)
  return ids
}

/**
 * Deletes a contact for good: its document, its conversations (messages and attachment
 * folders), their index rows, its manual links and the history of its values are erased; connected clients get a purge
 * notice and later-reconnecting ones are purged by the tombstones; erasure hooks run (CRM or bot
 * outboxes) and a `contact.erased` event is published, on which consumers drop what they hold
 * (the exports consumer removes export files that may hold it). Then one audit record is appended with
 * the contact's masked hint and platform, and the deleting admin. Resolves that record.
 *
 * Only an admin may call this; the HTTP route checks the role.
 *
 * @throws CardfileError `not-found` for an unknown contact, `deleted` for one already deleted.
 * @example
 * const record = await deleteContact(context, 'demo', 'c1', { userId: 'ana', name: 'Ana' })
 * record.hint // '@an***a'
 */
export async function deleteContact(
  context: ContactDeletionContext,
  workspace: string,
  contactId: string,
  admin: DeletingAdmin,
): Promise<DeletionRecord> {
  const { host, backend, log } = context
  const docName = contactDocName(workspace, contactId)
  if (await backend.documents.isErased(docName)) {
    // A deletion cut off before its last step is retried here: finish sealing it.
    await backend.documents.sealErasure()
    throw new CardfileError(ErrorCodes.Deleted, `Contact ${contactId} was already deleted`)
  }
  const profile: ContactProfile | null = await host.read(docName, (doc) =>
    within(new ContactDoc(doc, contactId), (contact) => contact.read().profile),
  )
  if (profile === null) {
    throw new CardfileError(ErrorCodes.NotFound, `No contact ${contactId}`)
  }

  const erasedConversations = new Set<string>()
  let erasedAt = 0
  // One ordered step: links, documents (so nothing new about the contact can be written), then
  // every other store that quoted it through the hooks, then the seal that makes all of those
  // deletions final in every file. A store added later joins as a hook and is sealed with
  // the rest; none can run after the seal.
  const erase = async (): Promise<void> => {
    await log.eraseContactRows(workspace, contactId)
    let ids = await conversationsOf(backend, workspace, contactId)
    await host.erase([docName, ...ids.map((id) => conversationDocName(workspace, id))])
    // After the documents: no commit of the contact can add to its history any more.
    await backend.valueHistory.eraseContact(workspace, contactId)
    // A message arriving meanwhile may have started a conversation after the listing: erase
    // until none is left, so no conversation outlives its contact.
    for (let round = 0; ids.length > 0 && round < MAX_ROUNDS; round += 1) {
      for (const id of ids) erasedConversations.add(id)
      ids = (await conversationsOf(backend, workspace, contactId)).filter(
        (id) => !erasedConversations.has(id),
      )
      if (ids.length > 0) await host.erase(ids.map((id) => conversationDocName(workspace, id)))
    }
    erasedAt = Date.now()
    const event = { workspace, contactId, conversationIds: [...erasedConversations], erasedAt }
    for (const hook of context.hooks ?? []) {
      try {
        await hook(event)
      } catch (error) {
        ;(context.onError ?? ((e: unknown) => console.error(errorForConsole(e))))(error)
      }
    }
    // Ids, the creation time and the masked hint only (what the deleted-contacts log keeps
    // too): the event outlives the contact in the log.
    await backend.events.publish([
      {
        type: 'contact.erased',
        workspace,
        subject: contactId,
        actor: { userId: admin.userId, role: 'admin' },
        data: {
          createdAt: profile.createdAt,
          conversationIds: [...erasedConversations],
          hint: profile.hint,
        },
        at: erasedAt,
      },
    ])
  }
  const releases: (() => Promise<void>)[] = []
  try {
    for (const barrier of context.barriers ?? []) {
      releases.push(await barrier(workspace, profile.createdAt))
    }
    await erase()
  } finally {
    try {
      // Sealed even when a step failed: whatever was deleted is not left readable meanwhile.
      await backend.documents.sealErasure()
    } finally {
      // Only after the seal: a snapshot opened before it would keep the WAL from truncating.
      for (const release of releases.reverse()) await release()
    }
  }

  const record: DeletionRecord = {
    workspace,
    id: randomUUID(),
    hint: profile.hint,
    channel: profile.channel,
    deletedAt: erasedAt,
    deletedBy: { userId: admin.userId, name: admin.name ?? null },
  }
  await log.append(record)
  return record
}
