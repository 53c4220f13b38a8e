-- Modify "documents" table
ALTER TABLE `documents` ADD COLUMN `request_key` varchar(160) NULL, ADD UNIQUE INDEX `document_owner_request_key` (`owner`, `request_key`);
