-- CreateTable
CREATE TABLE "Trace" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "actionId" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "capabilityId" TEXT NOT NULL,
    "eventType" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reasonCode" TEXT,
    "invokedAtUs" BIGINT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "recordHash" TEXT NOT NULL,
    "payload" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "ChainHead" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "nextSeq" INTEGER NOT NULL,
    "headHash" TEXT NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Trace_actionId_key" ON "Trace"("actionId");

-- CreateIndex
CREATE INDEX "Trace_invokedAtUs_seq_idx" ON "Trace"("invokedAtUs", "seq");

-- CreateIndex
CREATE INDEX "Trace_principalId_seq_idx" ON "Trace"("principalId", "seq");

-- CreateIndex
CREATE INDEX "Trace_principalId_invokedAtUs_seq_idx" ON "Trace"("principalId", "invokedAtUs", "seq");

-- CreateIndex
CREATE INDEX "Trace_capabilityId_seq_idx" ON "Trace"("capabilityId", "seq");

-- CreateIndex
CREATE INDEX "Trace_capabilityId_invokedAtUs_seq_idx" ON "Trace"("capabilityId", "invokedAtUs", "seq");

-- CreateIndex
CREATE INDEX "Trace_eventType_seq_idx" ON "Trace"("eventType", "seq");

-- CreateIndex
CREATE INDEX "Trace_eventType_invokedAtUs_seq_idx" ON "Trace"("eventType", "invokedAtUs", "seq");

-- CreateIndex
CREATE INDEX "Trace_status_seq_idx" ON "Trace"("status", "seq");

-- CreateIndex
CREATE INDEX "Trace_status_invokedAtUs_seq_idx" ON "Trace"("status", "invokedAtUs", "seq");

-- CreateIndex
CREATE INDEX "Trace_reasonCode_seq_idx" ON "Trace"("reasonCode", "seq");

-- CreateIndex
CREATE INDEX "Trace_reasonCode_invokedAtUs_seq_idx" ON "Trace"("reasonCode", "invokedAtUs", "seq");


-- The chain head starts at genesis: seq 0, prev_hash = 64 zeros
-- (docs/reference-compatibility.md#chaining).
INSERT INTO "ChainHead" ("id", "nextSeq", "headHash") VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
