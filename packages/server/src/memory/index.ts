/**
 * @cardfile/server/memory: the in-memory backend, for tests and throwaway servers: every store
 * of the contract, nothing durable.
 */
export type { MemoryBackend, MemoryBackendOptions } from '../storage/memory-backend'
export { createMemoryBackend } from '../storage/memory-backend'
