-- AlterTable: the key id of the chain's HMAC secret (null until a gateway first opens the chain).
ALTER TABLE "ChainHead" ADD COLUMN "keyId" TEXT;

-- CreateTable: which key covers which seqs (src/stores/prisma/chain-key.ts, docs/chain-format.md).
CREATE TABLE "ChainKey" (
    "keyId" TEXT NOT NULL,
    "fromSeq" BIGINT NOT NULL,
    "createdAtUs" BIGINT NOT NULL,

    CONSTRAINT "ChainKey_pkey" PRIMARY KEY ("keyId")
);

-- CreateIndex
CREATE UNIQUE INDEX "ChainKey_fromSeq_key" ON "ChainKey"("fromSeq");
