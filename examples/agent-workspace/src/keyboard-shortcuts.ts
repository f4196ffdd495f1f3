import { useEffect, useRef } from 'react'

/** The app's keyboard shortcuts, as the help panel lists them. */
export const SHORTCUTS: readonly { readonly keys: readonly string[]; readonly action: string }[] = [
  { keys: ['/'], action: 'Go to the queue' },
  { keys: ['j'], action: 'Next conversation' },
  { keys: ['k'], action: 'Previous conversation' },
  { keys: ['r'], action: 'Reply to the open conversation' },
  { keys: ['Ctrl', 'Enter'], action: 'Send the reply' },
  { keys: ['Esc'], action: 'Leave the reply box, or close this panel' },
  { keys: ['?'], action: 'Show or hide these shortcuts' },
]

/** What each single-key shortcut does; keys as `KeyboardEvent.key` reports them. */
export type ShortcutHandlers = Readonly<Record<string, () => void>>

/** Typing in a field must never trigger a shortcut: "j" in a reply is a letter. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  if (target.isContentEditable) return true
  const tag = target.tagName
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT'
}

/**
 * Listens for single-key shortcuts on the whole page, outside text fields, without modifier
 * keys (so the browser's own Ctrl and Cmd shortcuts keep working). Escape in a text field
 * leaves it, so the agent can go back to shortcuts without the mouse.
 *
 * @example
 * useKeyboardShortcuts({ '?': () => setHelpOpen((open) => !open) })
 */
export function useKeyboardShortcuts(handlers: ShortcutHandlers): void {
  const current = useRef(handlers)
  current.current = handlers
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return
      if (isTyping(event.target)) {
        if (event.key === 'Escape' && event.target instanceof HTMLElement) event.target.blur()
        return
      }
      const handler = current.current[event.key]
      if (handler === undefined) return
      event.preventDefault()
      handler()
    }
    document.addEventListener('keydown', onKeyDown)
    return () => document.removeEventListener('keydown', onKeyDown)
  }, [])
}

/** The inbox's list rows (queue or VIP group), in the order they show. */
const listRows = (): HTMLButtonElement[] => [
  ...document.querySelectorAll<HTMLButtonElement>(
    '[data-testid=queue-item], [data-testid=vip-contact]',
  ),
]

const selectedIndex = (rows: readonly HTMLButtonElement[]): number =>
  rows.findIndex((row) => row.classList.contains('selected'))

/** Moves focus to the selected row of the queue, or its first row. */
export function focusQueue(): void {
  const rows = listRows()
  const row = rows[Math.max(0, selectedIndex(rows))]
  row?.focus()
}

/**
 * Opens the next (`step` 1) or previous (`step` -1) conversation of the queue and focuses its
 * row; from no selection, j opens the first and k the last.
 */
export function stepConversation(step: 1 | -1): void {
  const rows = listRows()
  if (rows.length === 0) return
  const at = selectedIndex(rows)
  const next = at === -1 ? (step === 1 ? 0 : rows.length - 1) : at + step
  const row = rows[Math.min(rows.length - 1, Math.max(0, next))]
  if (row === undefined) return
  row.focus()
  row.click()
}

/** Focuses the reply box of the open conversation, if one is open. */
export function focusReply(): void {
  document.querySelector<HTMLTextAreaElement>('[data-testid=reply-box]')?.focus()
}
