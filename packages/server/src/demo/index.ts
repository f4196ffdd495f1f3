/**
 * @cardfile/server/demo: the demo workspace `cardfile serve --demo` seeds, for examples and
 * tests. Not part of the server's root entry: production code has no use for it.
 */
export type { DemoSeedOptions, DemoSeedResult, DemoUser } from './seed'
export { DEMO_USERS, seedDemoWorkspace } from './seed'
