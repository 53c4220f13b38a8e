-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_documents" table
CREATE TABLE `new_documents` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `type` text NOT NULL, `template_version` integer NOT NULL, `number` text NULL, `title` text NOT NULL, `owner` text NOT NULL, `subject` text NULL, `org_code` text NOT NULL, `org_path` text NOT NULL, `data` text NOT NULL, `file_id` integer NOT NULL, `sm3` text NOT NULL, `signer` text NOT NULL, `cert_serial` text NOT NULL, `signed_at` datetime NOT NULL, `created_by` integer NULL, `status` text NOT NULL DEFAULT ('issued'), `revoke_reason` text NULL, `request_key` text NULL);
-- Copy rows from old table "documents" to new temporary table "new_documents"
INSERT INTO `new_documents` (`id`, `type`, `template_version`, `number`, `title`, `owner`, `subject`, `org_code`, `org_path`, `data`, `file_id`, `sm3`, `signer`, `cert_serial`, `signed_at`, `created_by`, `status`, `revoke_reason`) SELECT `id`, `type`, `template_version`, `number`, `title`, `owner`, `subject`, `org_code`, `org_path`, `data`, `file_id`, `sm3`, `signer`, `cert_serial`, `signed_at`, `created_by`, `status`, `revoke_reason` FROM `documents`;
-- Drop "documents" table after copying rows
DROP TABLE `documents`;
-- Rename temporary table "new_documents" to "documents"
ALTER TABLE `new_documents` RENAME TO `documents`;
-- Create index "document_sm3" to table: "documents"
CREATE INDEX `document_sm3` ON `documents` (`sm3`);
-- Create index "document_owner_subject" to table: "documents"
CREATE INDEX `document_owner_subject` ON `documents` (`owner`, `subject`);
-- Create index "document_number" to table: "documents"
CREATE INDEX `document_number` ON `documents` (`number`);
-- Create index "document_owner_request_key" to table: "documents"
CREATE UNIQUE INDEX `document_owner_request_key` ON `documents` (`owner`, `request_key`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
