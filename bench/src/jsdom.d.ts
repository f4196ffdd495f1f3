/**
 * The slice of jsdom's API the hooks benchmark uses. jsdom is installed (the hook tests run in
 * it) but its type package is not, and the benchmark must typecheck without installing one.
 */
declare module 'jsdom' {
  export interface ConstructorOptions {
    /** The document's URL; also the origin of its storage APIs. */
    readonly url?: string
  }

  export class JSDOM {
    constructor(html?: string, options?: ConstructorOptions)
    readonly window: Window & typeof globalThis
  }
}
