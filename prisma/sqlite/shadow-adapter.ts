/**
 * Prisma CLI only (docs/toolchain.md#sqlite-shadow-database): `prisma migrate dev` replays
 * every migration.sql into a shadow database through `executeRaw`, and better-sqlite3 refuses
 * multi-statement SQL there. This factory routes parameterless raw statements on the shadow
 * connection to `executeScript`, which runs a whole script. The gateway never uses this class.
 */
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

type ShadowAdapter = Awaited<ReturnType<PrismaBetterSQLite3["connectToShadowDb"]>>;

export class PrismaBetterSQLite3ForMigrate extends PrismaBetterSQLite3 {
  override async connectToShadowDb(): Promise<ShadowAdapter> {
    const adapter = await super.connectToShadowDb();
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length === 0 && "executeScript" in adapter) {
        await (adapter as ShadowAdapter & { executeScript(sql: string): Promise<void> }).executeScript(query.sql);
        return 0;
      }
      return executeRaw(query);
    };
    return adapter;
  }
}
