import { useEffect, useRef } from 'react'
import { SHORTCUTS } from '../keyboard-shortcuts'
import { CloseIcon } from './icons'

/**
 * The keyboard shortcuts, in a dialog opened with `?`. Focus moves into it and returns where
 * it was when it closes (Escape, `?` again, or the close button).
 */
export function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    const before = document.activeElement
    close.current?.focus()
    return () => {
      if (before instanceof HTMLElement) before.focus()
    }
  }, [])
  return (
    <div
      className="dialog-backdrop"
      onClick={(event) => {
        if (event.target === event.currentTarget) onClose()
      }}
    >
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="shortcut-help-title"
        data-testid="shortcut-help"
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.preventDefault()
            onClose()
          }
          // A modal keeps focus inside; its close button is the one control in it.
          if (event.key === 'Tab') {
            event.preventDefault()
            close.current?.focus()
          }
        }}
      >
        <header className="dialog-header">
          <h2 id="shortcut-help-title">Keyboard shortcuts</h2>
          <button
            ref={close}
            type="button"
            className="icon-button"
            aria-label="Close"
            onClick={onClose}
          >
            <CloseIcon />
          </button>
        </header>
        <dl className="shortcut-list">
          {SHORTCUTS.map((s) => (
            <div key={s.action} className="shortcut" data-testid="shortcut">
              <dt>
                {s.keys.map((key, i) => (
                  <span key={key}>
                    {i > 0 && ' + '}
                    <kbd>{key}</kbd>
                  </span>
                ))}
              </dt>
              <dd>{s.action}</dd>
            </div>
          ))}
        </dl>
      </div>
    </div>
  )
}
