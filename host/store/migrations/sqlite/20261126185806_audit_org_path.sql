-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_audit_entries" table
CREATE TABLE `new_audit_entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `seq` integer NOT NULL, `at` datetime NOT NULL, `actor` text NOT NULL, `action` text NOT NULL, `resource` text NOT NULL, `outcome` text NOT NULL, `request_id` text NULL, `ip` text NULL, `org_path` text NULL, `detail` text NULL, `prev_hash` text NOT NULL, `hash` text NOT NULL);
-- Copy rows from old table "audit_entries" to new temporary table "new_audit_entries"
INSERT INTO `new_audit_entries` (`id`, `seq`, `at`, `actor`, `action`, `resource`, `outcome`, `request_id`, `ip`, `detail`, `prev_hash`, `hash`) SELECT `id`, `seq`, `at`, `actor`, `action`, `resource`, `outcome`, `request_id`, `ip`, `detail`, `prev_hash`, `hash` FROM `audit_entries`;
-- Drop "audit_entries" table after copying rows
DROP TABLE `audit_entries`;
-- Rename temporary table "new_audit_entries" to "audit_entries"
ALTER TABLE `new_audit_entries` RENAME TO `audit_entries`;
-- Create index "audit_entries_seq_key" to table: "audit_entries"
CREATE UNIQUE INDEX `audit_entries_seq_key` ON `audit_entries` (`seq`);
-- Create index "auditentry_at" to table: "audit_entries"
CREATE INDEX `auditentry_at` ON `audit_entries` (`at`);
-- Create index "auditentry_actor_at" to table: "audit_entries"
CREATE INDEX `auditentry_actor_at` ON `audit_entries` (`actor`, `at`);
-- Create index "auditentry_action_at" to table: "audit_entries"
CREATE INDEX `auditentry_action_at` ON `audit_entries` (`action`, `at`);
-- Create index "auditentry_org_path" to table: "audit_entries"
CREATE INDEX `auditentry_org_path` ON `audit_entries` (`org_path`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
