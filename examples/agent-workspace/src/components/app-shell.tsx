import { useState } from 'react'
import type { ReactNode } from 'react'
import { useSyncStatus } from '@cardfile/react'
import { initials } from '../format'
import {
  focusQueue,
  focusReply,
  stepConversation,
  useKeyboardShortcuts,
} from '../keyboard-shortcuts'
import { navigate, parseRoute, usePathname } from '../router'
import type { DemoUser } from '../session'
import { AdminOnlyPage } from './admin-only-page'
import { DeletedContactsPage } from './deleted-contacts-page'
import { ExportsPage } from './exports-page'
import { ImportsPage } from './imports-page'
import { InboxPage } from './inbox-page'
import { FlashMessages } from './flash-messages'
import { KeyboardIcon } from './icons'
import { SettingsPage } from './settings-page'
import { ShortcutHelp } from './shortcut-help'

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
  const [helpOpen, setHelpOpen] = useState(false)
  const inbox = route.page === 'inbox'
  useKeyboardShortcuts({
    '?': () => setHelpOpen((open) => !open),
    ...(inbox && !helpOpen
      ? {
          '/': focusQueue,
          j: () => stepConversation(1),
          k: () => stepConversation(-1),
          r: focusReply,
        }
      : {}),
  })
  let page: ReactNode
  switch (route.page) {
    case 'settings':
      page = admin ? <SettingsPage /> : <AdminOnlyPage what="change settings" />
      break
    case 'exports':
      page = admin ? <ExportsPage /> : <AdminOnlyPage what="export contact data" />
      break
    case 'imports':
      page = admin ? <ImportsPage /> : <AdminOnlyPage what="import contacts" />
      break
    case 'deleted':
      page = admin ? <DeletedContactsPage /> : <AdminOnlyPage what="see deleted contacts" />
      break
    default:
      page = <InboxPage conversationId={route.conversationId} />
  }
  return (
    <div className="shell">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">Cardfile</span>
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
              <NavLink to="/imports" active={route.page === 'imports'}>
                Import
              </NavLink>
              <NavLink to="/deleted-contacts" active={route.page === 'deleted'}>
                Deleted contacts
              </NavLink>
            </>
          )}
        </nav>
        <div className="topbar-right">
          <ConnectionBadge />
          <button
            type="button"
            className="icon-button"
            aria-label="Keyboard shortcuts"
            aria-keyshortcuts="?"
            title="Keyboard shortcuts (?)"
            data-testid="shortcuts-button"
            onClick={() => setHelpOpen(true)}
          >
            <KeyboardIcon size={18} />
          </button>
          <span className="me" data-testid="signed-in-as" title={`${user.name} · ${user.role}`}>
            <span className={`avatar avatar-small avatar-${user.userId}`}>
              {initials(user.name)}
            </span>
            <span className="me-name">
              {user.name} <span className="muted">· {user.role}</span>
            </span>
          </span>
          <button type="button" className="button ghost" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <div className="page">{page}</div>
      <FlashMessages />
      {helpOpen && <ShortcutHelp onClose={() => setHelpOpen(false)} />}
    </div>
  )
}
