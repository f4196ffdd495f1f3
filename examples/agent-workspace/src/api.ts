import type { IndexedContact, IndexedConversation } from '@cardfile/core'
import type { Session } from './session'
import { WORKSPACE } from './session'

/**
 * The HTTP API beside the hooks. Lists come from the server's index through the live list
 * hooks (a workspace's contacts never ship to the browser as documents); each item is then
 * opened live with hooks.
 */

/** A conversation as the queue endpoint lists it (core's shared index shape). */
export type ConversationRow = IndexedConversation

/** A contact as the contacts endpoint lists it (core's shared index shape). */
export type ContactRow = IndexedContact

interface PageBody<T> {
  readonly items: readonly T[]
  readonly next: string | null
}

/** An HTTP API error with the server's stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** GET a JSON resource of the workspace with the session's token. */
export async function getJson<T>(session: Session, path: string): Promise<T> {
  const res = await fetch(`/api/${WORKSPACE}/${path}`, {
    headers: { authorization: `Bearer ${await session.token()}` },
  })
  const body: unknown = await res.json().catch(() => null)
  if (!res.ok) {
    const error = (body as { error?: { code: string; message: string } } | null)?.error
    throw new ApiError(res.status, error?.code ?? 'internal', error?.message ?? res.statusText)
  }
  return body as T
}

/**
 * A contact's newest conversation (any status), to open it from a contact list such as the VIP
 * group; null when it has none.
 */
export async function newestConversation(
  session: Session,
  contactId: string,
): Promise<ConversationRow | null> {
  const query = new URLSearchParams({ contactId, order: 'newest', limit: '1' })
  const page = await getJson<PageBody<ConversationRow>>(
    session,
    `conversations?${query.toString()}`,
  )
  return page.items[0] ?? null
}

/** What a type change would do, or did, to the values of the workspace's contacts. */
export interface TypeChangeReport {
  readonly converted: number
  readonly failures: readonly { contactId: string; value: string; reason: string }[]
  readonly applied: boolean
}

/**
 * Asks the server to change an attribute's type (`apply`) or only to report which values would
 * not convert. A change refused because a value cannot convert answers with the report too.
 */
export async function changeAttributeType(
  session: Session,
  attributeId: string,
  type: string,
  apply: boolean,
): Promise<TypeChangeReport> {
  const res = await fetch(`/api/${WORKSPACE}/attributes/${attributeId}/type`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await session.token()}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ type, apply }),
  })
  const body = (await res.json().catch(() => null)) as {
    report?: TypeChangeReport
    error?: { code: string; message: string }
  } | null
  if (body?.report !== undefined) return body.report
  throw new ApiError(
    res.status,
    body?.error?.code ?? 'internal',
    body?.error?.message ?? res.statusText,
  )
}
