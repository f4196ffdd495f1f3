import type { ContactRow, ConversationRow } from './api'

/**
 * The last queue this browser loaded, per user and view, so a reload without a network still
 * lists the conversations (marked as not refreshed). It holds what the open documents already
 * keep on this device, and is removed at sign-out.
 */

export interface QueueSnapshot {
  readonly conversations: readonly ConversationRow[]
  readonly contacts: readonly ContactRow[]
}

const PREFIX = 'cardfile-queue:'

const keyOf = (userId: string, view: string): string => `${PREFIX}${userId}:${view}`

export function saveQueueSnapshot(userId: string, view: string, snapshot: QueueSnapshot): void {
  try {
    window.localStorage.setItem(keyOf(userId, view), JSON.stringify(snapshot))
  } catch {
    // A full or disabled storage only costs the offline queue.
  }
}

export function loadQueueSnapshot(userId: string, view: string): QueueSnapshot | null {
  try {
    const raw = window.localStorage.getItem(keyOf(userId, view))
    if (raw === null) return null
    const parsed = JSON.parse(raw) as Partial<QueueSnapshot>
    if (!Array.isArray(parsed.conversations) || !Array.isArray(parsed.contacts)) return null
    return { conversations: parsed.conversations, contacts: parsed.contacts }
  } catch {
    return null
  }
}

/** Forgets every saved queue (at sign-out: the next person on this browser sees none). */
export function clearQueueSnapshots(): void {
  for (const key of Object.keys(window.localStorage)) {
    if (key.startsWith(PREFIX)) window.localStorage.removeItem(key)
  }
}
