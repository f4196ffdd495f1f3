import { createContext, useContext } from 'react'
import type { Session } from './session'

export const SessionContext = createContext<Session | null>(null)

/** The signed-in session (user and token source). */
export function useSession(): Session {
  const session = useContext(SessionContext)
  if (session === null) throw new Error('useSession needs a signed-in user')
  return session
}
