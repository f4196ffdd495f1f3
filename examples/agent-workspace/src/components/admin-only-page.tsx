import { navigate } from '../router'
import { LockIcon } from './icons'

/**
 * What an agent sees on an admin page (opened from a bookmark or a shared link): a page that
 * says why, with a way back, instead of a refusal from the server.
 */
export function AdminOnlyPage({ what }: { what: string }) {
  return (
    <main className="admin-only" data-testid="admin-only">
      <div className="admin-only-card">
        <span className="admin-only-icon">
          <LockIcon size={28} />
        </span>
        <h1>Only admins can {what}</h1>
        <p className="muted">
          Ask an admin of this workspace if something here needs to change. Everything you need to
          answer customers is in the inbox.
        </p>
        <a
          href="/inbox"
          className="button primary"
          onClick={(event) => {
            event.preventDefault()
            navigate('/inbox')
          }}
        >
          Back to the inbox
        </a>
      </div>
    </main>
  )
}
