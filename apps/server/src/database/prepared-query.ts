import { type DataSource } from 'typeorm';

/** A statement of a hot path, run as a named prepared statement. */
export interface PreparedStatement {
  /** Unique per text: a connection keeps the statement under this name. */
  name: string;
  text: string;
}

interface NamedQueryPool {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

/**
 * Runs `statement` with `values` as a named prepared statement on the DataSource's
 * pool (outside of any transaction), and returns its rows.
 *
 * `dataSource.query` sends every statement unnamed, so PostgreSQL parses and plans it
 * on every call: for the statements of a login that was more than half of their time
 * in the database (benchmark figure 2). A named statement is parsed once per pool
 * connection, and its plan can be kept. Errors are the driver's (with their SQLSTATE
 * `code`), not TypeORM's `QueryFailedError`. The embedded database ignores the name.
 *
 * Behind a connection pooler, named statements need session pooling (or a pooler that
 * tracks prepared statements).
 */
export async function preparedQuery<R>(
  dataSource: DataSource,
  statement: PreparedStatement,
  values: unknown[],
): Promise<R[]> {
  // TypeORM's PostgreSQL driver keeps its `pg.Pool` (or the embedded look-alike) as `master`
  const pool = (dataSource.driver as unknown as { master: NamedQueryPool }).master;
  const result = await pool.query<R>({ name: statement.name, text: statement.text, values });
  return result.rows;
}
