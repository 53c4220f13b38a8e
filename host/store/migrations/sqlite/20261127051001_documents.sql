-- Create "documents" table
CREATE TABLE `documents` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `type` text NOT NULL, `template_version` integer NOT NULL, `number` text NULL, `title` text NOT NULL, `owner` text NOT NULL, `subject` text NULL, `org_code` text NOT NULL, `org_path` text NOT NULL, `data` text NOT NULL, `file_id` integer NOT NULL, `sm3` text NOT NULL, `signer` text NOT NULL, `cert_serial` text NOT NULL, `signed_at` datetime NOT NULL, `created_by` integer NULL, `status` text NOT NULL DEFAULT ('issued'), `revoke_reason` text NULL);
-- Create index "document_sm3" to table: "documents"
CREATE INDEX `document_sm3` ON `documents` (`sm3`);
-- Create index "document_owner_subject" to table: "documents"
CREATE INDEX `document_owner_subject` ON `documents` (`owner`, `subject`);
-- Create index "document_number" to table: "documents"
CREATE INDEX `document_number` ON `documents` (`number`);
-- Create "document_copies" table
CREATE TABLE `document_copies` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `document_id` integer NOT NULL, `code` text NOT NULL, `user_id` integer NULL, `username` text NOT NULL, `purpose` text NOT NULL, `created_at` datetime NOT NULL);
-- Create index "document_copies_code_key" to table: "document_copies"
CREATE UNIQUE INDEX `document_copies_code_key` ON `document_copies` (`code`);
-- Create index "documentcopy_document_id" to table: "document_copies"
CREATE INDEX `documentcopy_document_id` ON `document_copies` (`document_id`);
-- Create "dossiers" table
CREATE TABLE `dossiers` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `owner` text NOT NULL, `subject` text NOT NULL, `title` text NOT NULL, `kind` text NOT NULL, `org_code` text NOT NULL, `org_path` text NOT NULL, `head` text NOT NULL DEFAULT (''), `items` integer NOT NULL DEFAULT (0), `status` text NOT NULL DEFAULT ('open'), `archive_code` text NULL, `archive_file_id` integer NULL, `archived_at` datetime NULL, `created_at` datetime NOT NULL);
-- Create index "dossier_owner_subject" to table: "dossiers"
CREATE UNIQUE INDEX `dossier_owner_subject` ON `dossiers` (`owner`, `subject`);
-- Create index "dossier_archive_code" to table: "dossiers"
CREATE UNIQUE INDEX `dossier_archive_code` ON `dossiers` (`archive_code`);
-- Create "dossier_items" table
CREATE TABLE `dossier_items` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `dossier_id` integer NOT NULL, `seq` integer NOT NULL, `kind` text NOT NULL, `doc_type` text NULL, `title` text NOT NULL, `file_id` integer NOT NULL, `sm3` text NOT NULL, `format` text NOT NULL, `version` integer NOT NULL, `parent_seq` integer NULL, `meta` text NULL, `prev` text NOT NULL, `hash` text NOT NULL, `created_by` integer NULL, `created_at` datetime NOT NULL);
-- Create index "dossieritem_dossier_id_seq" to table: "dossier_items"
CREATE UNIQUE INDEX `dossieritem_dossier_id_seq` ON `dossier_items` (`dossier_id`, `seq`);
-- Create "files" table
CREATE TABLE `files` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `sm3` text NOT NULL, `size` integer NOT NULL, `name` text NOT NULL, `content_type` text NOT NULL, `owner` text NOT NULL, `purpose` text NULL, `created_by` integer NULL, `org_path` text NULL, `created_at` datetime NOT NULL);
-- Create index "file_sm3" to table: "files"
CREATE INDEX `file_sm3` ON `files` (`sm3`);
-- Create index "file_owner" to table: "files"
CREATE INDEX `file_owner` ON `files` (`owner`);
-- Create "number_sequences" table
CREATE TABLE `number_sequences` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `rule` text NOT NULL, `scope` text NOT NULL, `year` integer NOT NULL, `last` integer NOT NULL DEFAULT (0), `updated_at` datetime NOT NULL);
-- Create index "numbersequence_rule_scope_year" to table: "number_sequences"
CREATE UNIQUE INDEX `numbersequence_rule_scope_year` ON `number_sequences` (`rule`, `scope`, `year`);
