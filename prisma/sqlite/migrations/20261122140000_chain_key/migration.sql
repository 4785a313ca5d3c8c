-- AlterTable: the key id of the chain's HMAC secret (null until a gateway first opens the chain).
ALTER TABLE "ChainHead" ADD COLUMN "keyId" TEXT;

-- CreateTable: which key covers which seqs (src/stores/prisma/chain-key.ts, docs/chain-format.md).
CREATE TABLE "ChainKey" (
    "keyId" TEXT NOT NULL PRIMARY KEY,
    "fromSeq" INTEGER NOT NULL,
    "createdAtUs" BIGINT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "ChainKey_fromSeq_key" ON "ChainKey"("fromSeq");
