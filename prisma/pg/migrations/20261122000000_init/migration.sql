-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Trace" (
    "seq" BIGINT NOT NULL,
    "actionId" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "capabilityId" TEXT NOT NULL,
    "eventType" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reasonCode" TEXT,
    "invokedAt" TIMESTAMPTZ(6) NOT NULL,
    "prevHash" TEXT NOT NULL,
    "recordHash" TEXT NOT NULL,
    "payload" TEXT NOT NULL,

    CONSTRAINT "Trace_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "ChainHead" (
    "id" INTEGER NOT NULL,
    "nextSeq" BIGINT NOT NULL,
    "headHash" TEXT NOT NULL,

    CONSTRAINT "ChainHead_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Trace_actionId_key" ON "Trace"("actionId");

-- CreateIndex
CREATE INDEX "Trace_invokedAt_seq_idx" ON "Trace"("invokedAt", "seq");

-- CreateIndex
CREATE INDEX "Trace_principalId_seq_idx" ON "Trace"("principalId", "seq");

-- CreateIndex
CREATE INDEX "Trace_principalId_invokedAt_seq_idx" ON "Trace"("principalId", "invokedAt", "seq");

-- CreateIndex
CREATE INDEX "Trace_capabilityId_seq_idx" ON "Trace"("capabilityId", "seq");

-- CreateIndex
CREATE INDEX "Trace_capabilityId_invokedAt_seq_idx" ON "Trace"("capabilityId", "invokedAt", "seq");

-- CreateIndex
CREATE INDEX "Trace_eventType_seq_idx" ON "Trace"("eventType", "seq");

-- CreateIndex
CREATE INDEX "Trace_eventType_invokedAt_seq_idx" ON "Trace"("eventType", "invokedAt", "seq");

-- CreateIndex
CREATE INDEX "Trace_status_seq_idx" ON "Trace"("status", "seq");

-- CreateIndex
CREATE INDEX "Trace_status_invokedAt_seq_idx" ON "Trace"("status", "invokedAt", "seq");

-- CreateIndex
CREATE INDEX "Trace_reasonCode_seq_idx" ON "Trace"("reasonCode", "seq");

-- CreateIndex
CREATE INDEX "Trace_reasonCode_invokedAt_seq_idx" ON "Trace"("reasonCode", "invokedAt", "seq");


-- The chain head starts at genesis: seq 0, prev_hash = 64 zeros
-- (docs/reference-compatibility.md#chaining).
INSERT INTO "ChainHead" ("id", "nextSeq", "headHash") VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
