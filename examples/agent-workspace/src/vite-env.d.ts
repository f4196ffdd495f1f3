/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The Cardfile server's websocket base in `npm run dev` (default ws://localhost:1234). */
  readonly VITE_CARDFILE_WS?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}
