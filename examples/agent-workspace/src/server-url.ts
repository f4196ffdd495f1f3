/**
 * Where the app finds the Cardfile server. Built and served by `cardfile serve --static`, the
 * page, the HTTP API and the websocket share one origin. Under `npm run dev`, Vite proxies `/api`
 * and the websocket goes straight to the server (VITE_CARDFILE_WS, default ws://localhost:1234).
 */
export const websocketBase = (): string => {
  if (import.meta.env.DEV) return import.meta.env.VITE_CARDFILE_WS ?? 'ws://localhost:1234'
  const { protocol, host } = window.location
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}`
}
