import { useSyncExternalStore } from 'react'

/** The app's pages, read from the URL path (the server answers every path with the app). */
export type Route =
  | { readonly page: 'inbox'; readonly conversationId: string | null }
  | { readonly page: 'settings' }
  | { readonly page: 'exports' }
  | { readonly page: 'imports' }
  | { readonly page: 'deleted' }

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p !== '')
  if (parts[0] === 'settings') return { page: 'settings' }
  if (parts[0] === 'exports') return { page: 'exports' }
  if (parts[0] === 'imports') return { page: 'imports' }
  if (parts[0] === 'deleted-contacts') return { page: 'deleted' }
  const id = parts[0] === 'inbox' && parts[1] !== undefined ? decodeURIComponent(parts[1]) : null
  return { page: 'inbox', conversationId: id }
}

const listeners = new Set<() => void>()
const subscribe = (listener: () => void): (() => void) => {
  listeners.add(listener)
  window.addEventListener('popstate', listener)
  return () => {
    listeners.delete(listener)
    window.removeEventListener('popstate', listener)
  }
}

/** Goes to a path without a reload. */
export function navigate(path: string): void {
  if (window.location.pathname === path) return
  window.history.pushState(null, '', path)
  for (const listener of listeners) listener()
}

/** The current path; re-renders on navigation. */
export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname)
}
