-- AlterTable: every chain gets a random id, part of its signed checkpoints.
ALTER TABLE "ChainHead" ADD COLUMN "chainId" TEXT NOT NULL DEFAULT '';
UPDATE "ChainHead" SET "chainId" = lower(hex(randomblob(16))) WHERE "chainId" = '';

-- CreateTable
CREATE TABLE "RevocationToken" (
    "tokenId" TEXT NOT NULL PRIMARY KEY,
    "expiresAtUs" BIGINT,
    "revokedAtUs" BIGINT,
    "reason" TEXT,
    "revokedBy" TEXT
);

-- CreateTable
CREATE TABLE "TokenPrincipal" (
    "principalId" TEXT NOT NULL,
    "tokenId" TEXT NOT NULL,

    PRIMARY KEY ("principalId", "tokenId")
);

-- CreateTable
CREATE TABLE "PruneCheckpoint" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "seq" BIGINT NOT NULL,
    "recordHash" TEXT NOT NULL,
    "createdAtUs" BIGINT NOT NULL,
    "mac" TEXT NOT NULL,
    "keyId" TEXT,
    "signature" TEXT
);

-- CreateIndex
CREATE INDEX "RevocationToken_expiresAtUs_idx" ON "RevocationToken"("expiresAtUs");

-- CreateIndex
CREATE INDEX "TokenPrincipal_tokenId_idx" ON "TokenPrincipal"("tokenId");
