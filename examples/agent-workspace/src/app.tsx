import { useEffect, useMemo, useState } from 'react'
import { createCardfileClient } from '@cardfile/core'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider } from '@cardfile/react'
import { AppShell } from './components/app-shell'
import { SignIn } from './components/sign-in'
import { clearQueueSnapshots } from './queue-snapshot'
import { SessionContext } from './session-context'
import { WORKSPACE, createSession, saveUser, savedUser } from './session'
import type { DemoUser, Session } from './session'
import { websocketBase } from './server-url'

/** How often a shown list is fetched while the server cannot push (five minutes). */
const LIST_FALLBACK_POLL_MS = 5 * 60_000

/** Signed out: the sign-in page. Signed in: the workspace, with its own client per user. */

export function App() {
  const [user, setUser] = useState<DemoUser | null>(savedUser)
  const signIn = (next: DemoUser): void => {
    saveUser(next)
    setUser(next)
  }
  const signOut = (): void => {
    clearQueueSnapshots()
    saveUser(null)
    setUser(null)
  }
  if (user === null) return <SignIn onSignIn={signIn} />
  return <SignedIn key={user.userId} user={user} onSignOut={signOut} />
}

function SignedIn({ user, onSignOut }: { user: DemoUser; onSignOut: () => void }) {
  const session: Session = useMemo(() => createSession(user), [user])
  const [client, setClient] = useState<CardfileClient | null>(null)

  // The client lives as long as this sign-in; created in an effect so StrictMode's extra
  // mount gets its own client and the discarded one is destroyed (no stray sockets).
  useEffect(() => {
    const next = createCardfileClient({
      url: websocketBase(),
      workspace: WORKSPACE,
      getToken: () => session.token(),
      // Naming the user opens this user's cached documents at once: a reload without a network
      // shows them, where waiting for a first token would show nothing.
      userId: user.userId,
      name: user.name,
      role: user.role,
      onBeforeUnload: true,
      connect: navigator.onLine,
      // Lists are pushed by the server; polling is only the fallback while push is down.
      listPollMs: LIST_FALLBACK_POLL_MS,
    })
    // Follow the browser's network state: edits keep working offline and sync on return.
    const offline = (): void => next.disconnect()
    const online = (): void => next.connect()
    window.addEventListener('offline', offline)
    window.addEventListener('online', online)
    setClient(next)
    return () => {
      window.removeEventListener('offline', offline)
      window.removeEventListener('online', online)
      setClient(null)
      void next.destroy()
    }
  }, [session, user])

  if (client === null) return null
  return (
    <SessionContext.Provider value={session}>
      <CardfileProvider client={client}>
        <AppShell user={user} onSignOut={onSignOut} />
      </CardfileProvider>
    </SessionContext.Provider>
  )
}
