import type { ReactNode } from 'react'
import { useSyncStatus } from '@cardfile/react'
import { initials } from '../format'
import { navigate, parseRoute, usePathname } from '../router'
import type { DemoUser } from '../session'
import { DeletedContactsPage } from './deleted-contacts-page'
import { ExportsPage } from './exports-page'
import { InboxPage } from './inbox-page'
import { SettingsPage } from './settings-page'

function NavLink({ to, active, children }: { to: string; active: boolean; children: ReactNode }) {
  return (
    <a
      href={to}
      className={`nav-link${active ? ' active' : ''}`}
      aria-current={active ? 'page' : undefined}
      onClick={(event) => {
        event.preventDefault()
        navigate(to)
      }}
    >
      {children}
    </a>
  )
}

/** Connection state of the whole app, in the top bar. */
function ConnectionBadge() {
  const { status, pending } = useSyncStatus()
  const text =
    status === 'offline'
      ? pending > 0
        ? `Offline · ${pending} unsaved`
        : 'Offline'
      : status === 'synced'
        ? pending > 0
          ? 'Saving…'
          : 'Connected'
        : 'Connecting…'
  return (
    <span className={`connection connection-${status}`} data-testid="connection">
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  )
}

/** Top bar and the current page. */
export function AppShell({ user, onSignOut }: { user: DemoUser; onSignOut: () => void }) {
  const route = parseRoute(usePathname())
  const admin = user.role === 'admin'
  let page: ReactNode
  switch (route.page) {
    case 'settings':
      page = <SettingsPage />
      break
    case 'exports':
      page = <ExportsPage />
      break
    case 'deleted':
      page = <DeletedContactsPage />
      break
    default:
      page = <InboxPage conversationId={route.conversationId} />
  }
  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Cardfile
        </div>
        <nav className="nav" aria-label="Main">
          <NavLink to="/inbox" active={route.page === 'inbox'}>
            Inbox
          </NavLink>
          {admin && (
            <>
              <NavLink to="/settings" active={route.page === 'settings'}>
                Contact attributes
              </NavLink>
              <NavLink to="/exports" active={route.page === 'exports'}>
                Exports
              </NavLink>
              <NavLink to="/deleted-contacts" active={route.page === 'deleted'}>
                Deleted contacts
              </NavLink>
            </>
          )}
        </nav>
        <div className="topbar-right">
          <ConnectionBadge />
          <span className="me" data-testid="signed-in-as">
            <span className={`avatar avatar-small avatar-${user.userId}`}>
              {initials(user.name)}
            </span>
            <span>
              {user.name} <span className="muted">· {user.role}</span>
            </span>
          </span>
          <button type="button" className="button ghost" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <div className="page">{page}</div>
    </div>
  )
}
