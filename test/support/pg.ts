/** PostgreSQL helpers for tests: the admin URL and URLs of databases on the same server. */

/** The server the tests use; its user needs CREATEDB. */
export const PG_ADMIN_URL = process.env.TRACEGATE_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** The URL of another database on the test server. */
export function pgDatabaseUrl(database: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}
