-- Modify "roles" table
ALTER TABLE `roles` ADD COLUMN `data_scope` enum('all','subtree','own_level','own','custom') NOT NULL DEFAULT 'subtree', ADD COLUMN `custom_scope` json NULL;
