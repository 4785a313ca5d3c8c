/**
 * KeyStore on Prisma's typed client (both generated clients have the same ApiKey model).
 * Keys are few and read through a short cache in the authenticator, so the typed client's
 * overhead does not matter here.
 */
import { isScope, parsePrincipalPatterns, formatPrincipalPatterns, type Scope } from "../../access/scopes.js";
import type { ApiKeyRecord, KeyStore, NewApiKey } from "../key-store.js";

/** An ApiKey row as both generated clients return it. */
interface ApiKeyRow {
  id: string;
  name: string;
  keyHash: string;
  scopes: string;
  principals: string | null;
  createdAt: Date;
  createdBy: string;
  revokedAt: Date | null;
}

type RowData = Omit<ApiKeyRow, "createdAt" | "revokedAt">;

/** The slice of the generated `apiKey` delegate the store uses. */
export interface ApiKeyDelegate {
  create(args: { data: RowData }): PromiseLike<ApiKeyRow>;
  findUnique(args: { where: { id: string } | { keyHash: string } }): PromiseLike<ApiKeyRow | null>;
  findMany(args: { where?: { revokedAt: null }; orderBy: { createdAt: "asc" } }): PromiseLike<ApiKeyRow[]>;
  count(args: { where: { revokedAt: null } }): PromiseLike<number>;
  updateMany(args: { where: { id: string; revokedAt: null }; data: { revokedAt: Date } }): PromiseLike<{ count: number }>;
  upsert(args: { where: { id: string }; create: RowData; update: Omit<RowData, "id"> & { revokedAt: null } }): PromiseLike<ApiKeyRow>;
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  const scopes = row.scopes.split(" ").filter((s): s is Scope => isScope(s));
  return {
    id: row.id,
    name: row.name,
    keyHash: row.keyHash,
    scopes,
    principals: row.principals === null ? null : parsePrincipalPatterns(JSON.parse(row.principals) as string[]),
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    revokedAt: row.revokedAt,
  };
}

function toData(key: NewApiKey): RowData {
  return {
    id: key.id,
    name: key.name,
    keyHash: key.keyHash,
    scopes: key.scopes.join(" "),
    principals: key.principals === null ? null : JSON.stringify(formatPrincipalPatterns(key.principals)),
    createdBy: key.createdBy,
  };
}

export class PrismaKeyStore implements KeyStore {
  readonly #keys: ApiKeyDelegate;

  constructor(keys: ApiKeyDelegate) {
    this.#keys = keys;
  }

  async create(key: NewApiKey): Promise<ApiKeyRecord> {
    return toRecord(await this.#keys.create({ data: toData(key) }));
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const row = await this.#keys.findUnique({ where: { keyHash } });
    return row ? toRecord(row) : null;
  }

  async findById(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.#keys.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async list({ includeRevoked = false } = {}): Promise<ApiKeyRecord[]> {
    const rows = await this.#keys.findMany({
      ...(includeRevoked ? {} : { where: { revokedAt: null } }),
      orderBy: { createdAt: "asc" },
    });
    return rows.map(toRecord);
  }

  countActive(): Promise<number> {
    return Promise.resolve(this.#keys.count({ where: { revokedAt: null } }));
  }

  async revoke(id: string, at: Date): Promise<ApiKeyRecord | null> {
    // Conditional update: a second revoke leaves the first revocation time in place.
    await this.#keys.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
    return this.findById(id);
  }

  async upsert(key: NewApiKey): Promise<ApiKeyRecord> {
    const { id, ...rest } = toData(key);
    return toRecord(await this.#keys.upsert({ where: { id }, create: { id, ...rest }, update: { ...rest, revokedAt: null } }));
  }
}
