import pg from 'pg'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database made for this test run, dropped after it. */
    postgresUrl: string
  }
}

/**
 * Gives every test run a fresh PostgreSQL database of its own (and drops it afterwards), on the
 * server named by CARDFILE_TEST_POSTGRES (default: the local server, user postgres). Tests that
 * need an empty store make a schema of their own inside it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const admin = process.env.CARDFILE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `cardfile_test_${Date.now()}_${process.pid}`
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
  } catch (error) {
    throw new Error(
      `the tests need PostgreSQL at ${new URL(admin).host} (set CARDFILE_TEST_POSTGRES): ${String(error)}`,
    )
  }
  await client.query(`CREATE DATABASE ${name}`)
  await client.end()
  const url = new URL(admin)
  url.pathname = `/${name}`
  project.provide('postgresUrl', url.toString())
  return async () => {
    const dropper = new pg.Client({ connectionString: admin })
    await dropper.connect()
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await dropper.end()
  }
}
