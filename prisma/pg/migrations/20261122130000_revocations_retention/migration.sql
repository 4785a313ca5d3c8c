-- AlterTable: every chain gets a random id, part of its signed checkpoints.
ALTER TABLE "ChainHead" ADD COLUMN "chainId" TEXT NOT NULL DEFAULT '';
UPDATE "ChainHead" SET "chainId" = md5(random()::text || clock_timestamp()::text) WHERE "chainId" = '';

-- CreateTable
CREATE TABLE "RevocationToken" (
    "tokenId" TEXT NOT NULL,
    "expiresAtUs" BIGINT,
    "revokedAtUs" BIGINT,
    "reason" TEXT,
    "revokedBy" TEXT,

    CONSTRAINT "RevocationToken_pkey" PRIMARY KEY ("tokenId")
);

-- CreateTable
CREATE TABLE "TokenPrincipal" (
    "principalId" TEXT NOT NULL,
    "tokenId" TEXT NOT NULL,

    CONSTRAINT "TokenPrincipal_pkey" PRIMARY KEY ("principalId","tokenId")
);

-- CreateTable
CREATE TABLE "PruneCheckpoint" (
    "id" INTEGER NOT NULL,
    "seq" BIGINT NOT NULL,
    "recordHash" TEXT NOT NULL,
    "createdAtUs" BIGINT NOT NULL,
    "mac" TEXT NOT NULL,
    "keyId" TEXT,
    "signature" TEXT,

    CONSTRAINT "PruneCheckpoint_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RevocationToken_expiresAtUs_idx" ON "RevocationToken"("expiresAtUs");

-- CreateIndex
CREATE INDEX "TokenPrincipal_tokenId_idx" ON "TokenPrincipal"("tokenId");
