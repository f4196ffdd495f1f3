import { useSyncExternalStore } from 'react'

/**
 * Confirmations that outlive the component that triggers them: the contact panel that deletes
 * a contact unmounts with it, so its "deleted" message is kept here and shown by the shell.
 */

export interface FlashMessage {
  readonly id: number
  readonly text: string
}

/** Long enough to read a sentence; the agent may also dismiss it. */
const SHOW_MS = 10_000

let messages: readonly FlashMessage[] = []
let nextId = 1
const listeners = new Set<() => void>()

const emit = (): void => {
  for (const listener of listeners) listener()
}

export function dismissFlash(id: number): void {
  messages = messages.filter((m) => m.id !== id)
  emit()
}

/**
 * Shows a confirmation in the shell for a few seconds.
 *
 * @example
 * flash('Anna Karlsson was deleted.')
 */
export function flash(text: string): void {
  const id = nextId++
  messages = [...messages, { id, text }]
  emit()
  setTimeout(() => dismissFlash(id), SHOW_MS)
}

const subscribe = (listener: () => void): (() => void) => {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** The confirmations showing now, oldest first. */
export function useFlashMessages(): readonly FlashMessage[] {
  return useSyncExternalStore(subscribe, () => messages)
}
