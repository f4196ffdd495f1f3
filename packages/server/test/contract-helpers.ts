import { CardfileError } from '@cardfile/core'
import { expect } from 'vitest'
import type { Backend } from '../src/backend'
import type { ContactIndexRow, ConversationIndexRow, Page } from '../src/storage/index-store'
import { updateSetting } from './storage-helpers'

/** A contact's document name. */
export const contactDoc = (ws: string, id: string): string => `${ws}/contact/${id}`

/** A conversation's document name. */
export const conversationDoc = (ws: string, id: string): string => `${ws}/conversation/${id}`

/** Puts a contact row into the index the way the server does: with an update of its document. */
export async function indexContact(backend: Backend, row: ContactIndexRow): Promise<void> {
  await backend.documents.append(
    contactDoc(row.workspace, row.id),
    updateSetting('id', row.id),
    row,
  )
}

/** Puts a conversation row into the index with an update of its document. */
export async function indexConversation(
  backend: Backend,
  row: ConversationIndexRow,
): Promise<void> {
  await backend.documents.append(
    conversationDoc(row.workspace, row.id),
    updateSetting('id', row.id),
    row,
  )
}

/** Reads every page of a list, checking no page is larger than the limit. */
export async function allPages<T>(
  read: (cursor: string | null) => Promise<Page<T>>,
  limit: number,
): Promise<T[][]> {
  const pages: T[][] = []
  let cursor: string | null = null
  do {
    const page: Page<T> = await read(cursor)
    expect(page.items.length).toBeLessThanOrEqual(limit)
    pages.push([...page.items])
    cursor = page.next
  } while (cursor !== null && pages.length < 100)
  return pages
}

/** The CardfileError code a promise rejects with (or a text that fails any code assertion). */
export const codeOf = async (p: Promise<unknown>): Promise<string> => {
  const error: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  )
  return error instanceof CardfileError ? error.code : `not a CardfileError: ${String(error)}`
}
