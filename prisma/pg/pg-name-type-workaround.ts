/**
 * Prisma CLI only (docs/toolchain.md#postgresql-catalog-name-type, upstream prisma/orm#27403):
 * @prisma/adapter-pg 6.19 cannot map the catalog types `name` (OID 19) and `"char"` (OID 18)
 * that `prisma migrate` reads from pg_catalog, and every migrate command fails with "Column
 * type 'name' could not be deserialized". Relabel both as `text` (OID 25) as results arrive.
 * Imported only by prisma.pg.config.ts; the gateway never loads it.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Result = require("pg/lib/result.js") as {
  prototype: { addFields(fields: { dataTypeID: number }[]): void; __tracegateNamePatch?: boolean };
};

const TEXT_OID = 25;
const RELABEL = new Set([18, 19]);

if (!Result.prototype.__tracegateNamePatch) {
  const addFields = Result.prototype.addFields;
  Result.prototype.addFields = function (fields) {
    for (const field of fields) if (RELABEL.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
    return addFields.call(this, fields);
  };
  Result.prototype.__tracegateNamePatch = true;
}
