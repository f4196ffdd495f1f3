import { dismissFlash, useFlashMessages } from '../flash-messages'
import { CheckIcon, CloseIcon } from './icons'

/** Confirmations (e.g. after a deletion), announced politely to screen readers. */
export function FlashMessages() {
  const messages = useFlashMessages()
  return (
    <div className="flash-messages" aria-live="polite">
      {messages.map((m) => (
        <div key={m.id} className="flash" data-testid="flash-message">
          <CheckIcon />
          <span>{m.text}</span>
          <button
            type="button"
            className="icon-button"
            aria-label="Dismiss"
            onClick={() => dismissFlash(m.id)}
          >
            <CloseIcon size={14} />
          </button>
        </div>
      ))}
    </div>
  )
}
