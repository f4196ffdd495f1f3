import type { Role } from '../types'

/** What one user shares about themselves on a document (through Yjs awareness). */
export interface Presence {
  readonly userId: string
  readonly name: string
  readonly role: Role
  /** The document the user has open. */
  readonly viewing: string
  /** The field the user is editing (for example `custom:plan`), or null. */
  readonly editing: string | null
  /** The awareness client id, unique per open replica (one user may have several tabs). */
  readonly clientId: number
}

const ROLE_NAMES = new Set<string>(['admin', 'agent', 'bot', 'crm', 'system'])

/** Reads a presence entry from an awareness state; null when the state is not one of ours. */
export function readPresence(clientId: number, state: unknown): Presence | null {
  if (typeof state !== 'object' || state === null) return null
  const s = state as Record<string, unknown>
  if (typeof s.userId !== 'string' || typeof s.role !== 'string' || !ROLE_NAMES.has(s.role)) {
    return null
  }
  return {
    userId: s.userId,
    name: typeof s.name === 'string' ? s.name : s.userId,
    role: s.role as Role,
    viewing: typeof s.viewing === 'string' ? s.viewing : '',
    editing: typeof s.editing === 'string' ? s.editing : null,
    clientId,
  }
}
