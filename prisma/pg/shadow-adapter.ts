/**
 * Prisma CLI only (docs/toolchain.md#postgresql-shadow-database): adapter-pg's shadow database
 * for `prisma migrate dev`. Its own connectToShadowDb drops the shadow database while its pool
 * still holds connections ("is being accessed by other users"); this one ends the pool first
 * and drops WITH (FORCE). It also needs discrete connection fields (a connectionString would
 * win over the shadow database name and replay migrations into the main database).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

type PgAdapter = Awaited<ReturnType<PrismaPg["connect"]>>;

export class PrismaPgForMigrate extends PrismaPg {
  constructor(private readonly poolConfig: pg.PoolConfig) {
    super(poolConfig);
  }

  override async connectToShadowDb(): Promise<PgAdapter> {
    const admin = await this.connect();
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID().replace(/-/g, "")}`;
    await admin.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = await new PrismaPg({ ...this.poolConfig, database }).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      await admin.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.dispose();
    };
    return shadow;
  }
}
