-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_roles" table
CREATE TABLE `new_roles` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `name_en` text NULL, `builtin` bool NOT NULL DEFAULT (false), `permissions` json NULL, `data_scope` text NOT NULL DEFAULT ('subtree'), `custom_scope` json NULL);
-- Copy rows from old table "roles" to new temporary table "new_roles"
INSERT INTO `new_roles` (`id`, `created_at`, `updated_at`, `key`, `name`, `name_en`, `builtin`, `permissions`) SELECT `id`, `created_at`, `updated_at`, `key`, `name`, `name_en`, `builtin`, `permissions` FROM `roles`;
-- Drop "roles" table after copying rows
DROP TABLE `roles`;
-- Rename temporary table "new_roles" to "roles"
ALTER TABLE `new_roles` RENAME TO `roles`;
-- Create index "roles_key_key" to table: "roles"
CREATE UNIQUE INDEX `roles_key_key` ON `roles` (`key`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
