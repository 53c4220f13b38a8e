-- Modify "audit_entries" table
ALTER TABLE `audit_entries` ADD COLUMN `org_path` varchar(512) NULL, ADD INDEX `auditentry_org_path` (`org_path`);
