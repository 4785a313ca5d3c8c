/**
 * RevocationStore on Prisma raw SQL, shared by SQLite and PostgreSQL through a SqlDialect.
 *
 * Tables (migration 20261122130000_revocations_retention): "RevocationToken" holds one row
 * per known token (expiry from trackToken, revocation from revokeToken/revokePrincipal) and
 * "TokenPrincipal" is the principal index. Instants are integer microseconds in both
 * databases, so only integer parameters need the dialect (PostgreSQL's `::bigint`).
 *
 * Every mutation is one chain write (./prisma-chain-writer.ts): with the chain lock held, in
 * the transaction that appends its audit trace. That lock serializes all revocation writes
 * of every process on the database, which is what makes each read-then-write below safe
 * (e.g. counting the tokens revokePrincipal will newly revoke, then revoking them).
 */
import { empty, join, sqltag as sql, type Sql } from "@prisma/client/runtime/client";
import { compareCodePoints } from "../../chain/json.js";
import type { EncodedTrace } from "../../chain/trace.js";
import type { EpochMicros } from "../../chain/time.js";
import type {
  Audit,
  Audited,
  RevocationPageQuery,
  RevocationRecord,
  RevocationStore,
  RevokeTokenOutcome,
} from "../revocation-store.js";
import type { ChainWriter } from "../chain-writer.js";
import type { PrismaChainWrite } from "./prisma-chain-writer.js";
import type { SqlDialect } from "./dialect.js";
import { type RawSqlRunner, toNumber } from "./sql-client.js";

interface RawTokenRow {
  tokenId: string;
  expiresAtUs: unknown;
  revokedAtUs: unknown;
  reason: string | null;
  revokedBy: string | null;
}

const TOKEN_COLUMNS = sql`r."tokenId", r."expiresAtUs", r."revokedAtUs", r."reason", r."revokedBy"`;

const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : toNumber(v));

function toRecord(row: RawTokenRow, principals: string[]): RevocationRecord {
  return {
    tokenId: row.tokenId,
    principals,
    expiresAtUs: nullableNumber(row.expiresAtUs),
    revokedAtUs: nullableNumber(row.revokedAtUs),
    reason: row.reason,
    revokedBy: row.revokedBy,
  };
}

/** Options of the Prisma revocation store. */
export interface PrismaRevocationStoreOptions {
  /** Runs every mutation as a chain write, whose transaction (PrismaChainWrite.tx) it shares. */
  chain: ChainWriter<PrismaChainWrite>;
  /** Runs reads (on SQLite a separate connection from the writer: never inside an open append). */
  reader: RawSqlRunner;
  dialect: SqlDialect;
}

/** RevocationStore over Prisma raw SQL; closed together with the trace store that owns the clients. */
export class PrismaRevocationStore implements RevocationStore {
  readonly #chain: ChainWriter<PrismaChainWrite>;
  readonly #reader: RawSqlRunner;
  readonly #d: SqlDialect;

  constructor(options: PrismaRevocationStoreOptions) {
    this.#chain = options.chain;
    this.#reader = options.reader;
    this.#d = options.dialect;
  }

  async trackToken(
    tokenId: string,
    principalId: string,
    expiresAtUs: EpochMicros,
    audit: Audit<RevocationRecord>,
  ): Promise<Audited<RevocationRecord>> {
    const d = this.#d;
    return this.#audited(async (tx) => {
      // The reference replaces the expiry and ignores a repeated pair; revocation columns stay.
      // One exception keeps revocation one-way: a revoked token's expiry only ever moves later
      // (and one revoked before it was ever tracked keeps none, so it is never swept).
      // Otherwise re-tracking it with a past expiry and sweeping would un-revoke a live token.
      await tx.$executeRaw(sql`INSERT INTO "RevocationToken" ("tokenId", "expiresAtUs") VALUES (${tokenId}, ${d.int(expiresAtUs)})
        ON CONFLICT ("tokenId") DO UPDATE SET "expiresAtUs" = CASE
          WHEN "RevocationToken"."revokedAtUs" IS NULL THEN excluded."expiresAtUs"
          WHEN "RevocationToken"."expiresAtUs" IS NULL THEN NULL
          WHEN excluded."expiresAtUs" > "RevocationToken"."expiresAtUs" THEN excluded."expiresAtUs"
          ELSE "RevocationToken"."expiresAtUs" END`);
      await tx.$executeRaw(
        sql`INSERT INTO "TokenPrincipal" ("principalId", "tokenId") VALUES (${principalId}, ${tokenId}) ON CONFLICT DO NOTHING`,
      );
      const record = await this.#get(tx, tokenId);
      if (!record) throw new Error(`token '${tokenId}' vanished inside its own transaction`);
      return { result: record, trace: audit(record) };
    });
  }

  async revokeToken(
    tokenId: string,
    reason: string | null,
    audit: Audit<{ newlyRevoked: boolean }>,
  ): Promise<Audited<RevokeTokenOutcome>> {
    const d = this.#d;
    return this.#audited(async (tx) => {
      const before = await this.#get(tx, tokenId);
      const newlyRevoked = before?.revokedAtUs == null;
      // The trace is built before the write because it supplies revokedAt and revokedBy: the
      // record then states exactly the instant and actor its chain entry states.
      const trace = audit({ newlyRevoked });
      if (newlyRevoked) {
        // The WHERE keeps a first revocation even if this ever ran without the chain lock.
        await tx.$executeRaw(sql`INSERT INTO "RevocationToken" ("tokenId", "revokedAtUs", "reason", "revokedBy")
          VALUES (${tokenId}, ${d.int(trace.columns.invokedAtUs)}, ${reason}, ${trace.columns.principalId})
          ON CONFLICT ("tokenId") DO UPDATE SET "revokedAtUs" = excluded."revokedAtUs", "reason" = excluded."reason",
            "revokedBy" = excluded."revokedBy"
          WHERE "RevocationToken"."revokedAtUs" IS NULL`);
      }
      const revocation = await this.#get(tx, tokenId);
      if (!revocation) throw new Error(`token '${tokenId}' vanished inside its own transaction`);
      return { result: { newlyRevoked, revocation }, trace };
    });
  }

  async revokePrincipal(principalId: string, reason: string | null, audit: Audit<number>): Promise<Audited<number>> {
    const d = this.#d;
    return this.#audited(async (tx) => {
      // Counted first because the audit trace (built from the count) supplies revokedAt/By.
      const counted = await tx.$queryRaw<{ n: unknown }[]>(sql`SELECT COUNT(*) AS "n" FROM "TokenPrincipal" AS p
        LEFT JOIN "RevocationToken" AS r ON r."tokenId" = p."tokenId"
        WHERE p."principalId" = ${principalId} AND r."revokedAtUs" IS NULL`);
      const newlyRevoked = toNumber(counted[0]?.n ?? 0);
      const trace = audit(newlyRevoked);
      // An upsert covers an index row without a token row too (never written by this store,
      // but cheap to tolerate). SQLite needs the SELECT's WHERE to parse ON CONFLICT here.
      const changed = await tx.$executeRaw(sql`INSERT INTO "RevocationToken" ("tokenId", "revokedAtUs", "reason", "revokedBy")
        SELECT "tokenId", ${d.int(trace.columns.invokedAtUs)}, ${reason}, ${trace.columns.principalId}
        FROM "TokenPrincipal" WHERE "principalId" = ${principalId}
        ON CONFLICT ("tokenId") DO UPDATE SET "revokedAtUs" = excluded."revokedAtUs", "reason" = excluded."reason",
          "revokedBy" = excluded."revokedBy"
        WHERE "RevocationToken"."revokedAtUs" IS NULL`);
      // Under the chain lock nothing can change between the count and the write; if it did,
      // the chain would record a wrong count, so refuse (the transaction rolls back).
      if (changed !== newlyRevoked) throw new Error(`revokePrincipal counted ${newlyRevoked} tokens but revoked ${changed}`);
      // The reference drops the principal's index entries; expiry rows stay to be swept.
      await tx.$executeRaw(sql`DELETE FROM "TokenPrincipal" WHERE "principalId" = ${principalId}`);
      return { result: newlyRevoked, trace };
    });
  }

  async sweepExpired(nowUs: EpochMicros, audit: Audit<number>): Promise<Audited<number>> {
    const now = this.#d.int(nowUs);
    return this.#audited(async (tx) => {
      // `<=`: the bound includes equality. Rows without expiry (NULL) never compare true,
      // so a token revoked without being tracked is never swept.
      await tx.$executeRaw(sql`DELETE FROM "TokenPrincipal"
        WHERE "tokenId" IN (SELECT "tokenId" FROM "RevocationToken" WHERE "expiresAtUs" <= ${now})`);
      const swept = await tx.$executeRaw(sql`DELETE FROM "RevocationToken" WHERE "expiresAtUs" <= ${now}`);
      return { result: swept, trace: audit(swept) };
    });
  }

  async isRevoked(tokenId: string): Promise<boolean> {
    const rows = await this.#reader.$queryRaw<unknown[]>(
      sql`SELECT 1 AS "one" FROM "RevocationToken" WHERE "tokenId" = ${tokenId} AND "revokedAtUs" IS NOT NULL`,
    );
    return rows.length > 0;
  }

  get(tokenId: string): Promise<RevocationRecord | null> {
    return this.#get(this.#reader, tokenId);
  }

  async page(q: RevocationPageQuery): Promise<RevocationRecord[]> {
    const { filter } = q;
    const conditions: Sql[] = [];
    // With a principal, walk the TokenPrincipal primary key (principalId, tokenId): it
    // yields that principal's tokens already in tokenId order, so the page needs no sort.
    const key = filter.principalId !== undefined ? sql`p."tokenId"` : sql`r."tokenId"`;
    const from =
      filter.principalId !== undefined
        ? sql`"TokenPrincipal" AS p JOIN "RevocationToken" AS r ON r."tokenId" = p."tokenId"`
        : sql`"RevocationToken" AS r`;
    if (filter.principalId !== undefined) conditions.push(sql`p."principalId" = ${filter.principalId}`);
    if (q.after !== undefined) conditions.push(sql`${key} > ${q.after}`);
    if (filter.revoked === true) conditions.push(sql`r."revokedAtUs" IS NOT NULL`);
    if (filter.revoked === false) conditions.push(sql`r."revokedAtUs" IS NULL`);
    if (filter.expiresBeforeUs !== undefined) conditions.push(sql`r."expiresAtUs" < ${this.#d.int(filter.expiresBeforeUs)}`);
    const where = conditions.length === 0 ? empty : sql`WHERE ${join(conditions, " AND ")}`;
    const rows = await this.#reader.$queryRaw<RawTokenRow[]>(
      sql`SELECT ${TOKEN_COLUMNS} FROM ${from} ${where} ORDER BY ${key} ASC LIMIT ${q.limit}`,
    );
    const principals = await this.#principalsOf(this.#reader, rows.map((r) => r.tokenId));
    return rows.map((r) => toRecord(r, principals.get(r.tokenId) ?? []));
  }

  /**
   * Run a mutation and append its one audit trace in the same chain write. The trace must be
   * new ("refuse"): acknowledging a stored one would leave this change unrecorded.
   */
  async #audited<R>(work: (tx: RawSqlRunner) => Promise<{ result: R; trace: EncodedTrace }>): Promise<Audited<R>> {
    return this.#chain.write(async (chain) => {
      const { result, trace } = await work(chain.tx);
      const [row] = await chain.append([trace], "refuse");
      if (!row) throw new Error("the audit trace was not appended");
      return { result, trace: row };
    });
  }

  async #get(db: RawSqlRunner, tokenId: string): Promise<RevocationRecord | null> {
    const rows = await db.$queryRaw<RawTokenRow[]>(
      sql`SELECT ${TOKEN_COLUMNS} FROM "RevocationToken" AS r WHERE r."tokenId" = ${tokenId}`,
    );
    const row = rows[0];
    if (!row) return null;
    const principals = await this.#principalsOf(db, [tokenId]);
    return toRecord(row, principals.get(tokenId) ?? []);
  }

  /** The principal index of some tokens, each list in code-point order (the same on both databases). */
  async #principalsOf(db: RawSqlRunner, tokenIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (tokenIds.length === 0) return out;
    const rows = await db.$queryRaw<{ tokenId: string; principalId: string }[]>(
      sql`SELECT "tokenId", "principalId" FROM "TokenPrincipal" WHERE "tokenId" IN (${this.#d.textArray(tokenIds)})`,
    );
    for (const r of rows) {
      const list = out.get(r.tokenId);
      if (list) list.push(r.principalId);
      else out.set(r.tokenId, [r.principalId]);
    }
    for (const list of out.values()) list.sort(compareCodePoints);
    return out;
  }
}
