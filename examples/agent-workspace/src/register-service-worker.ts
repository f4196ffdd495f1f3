/**
 * Registers the app-shell worker (`/sw.js`) in a production build. The development server
 * has no worker: Vite serves modules fresh and a cache would hide edits.
 */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((error: unknown) => {
      // The app works without it, only not from a reload while offline.
      console.warn('The offline app cache is not available:', error)
    })
  })
}
