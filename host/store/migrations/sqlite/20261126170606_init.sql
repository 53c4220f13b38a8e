-- Create "audit_entries" table
CREATE TABLE `audit_entries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `seq` integer NOT NULL, `at` datetime NOT NULL, `actor` text NOT NULL, `action` text NOT NULL, `resource` text NOT NULL, `outcome` text NOT NULL, `request_id` text NULL, `ip` text NULL, `detail` text NULL, `prev_hash` text NOT NULL, `hash` text NOT NULL);
-- Create index "audit_entries_seq_key" to table: "audit_entries"
CREATE UNIQUE INDEX `audit_entries_seq_key` ON `audit_entries` (`seq`);
-- Create index "auditentry_at" to table: "audit_entries"
CREATE INDEX `auditentry_at` ON `audit_entries` (`at`);
-- Create index "auditentry_actor_at" to table: "audit_entries"
CREATE INDEX `auditentry_actor_at` ON `audit_entries` (`actor`, `at`);
-- Create index "auditentry_action_at" to table: "audit_entries"
CREATE INDEX `auditentry_action_at` ON `audit_entries` (`action`, `at`);
-- Create "organizations" table
CREATE TABLE `organizations` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `code` text NOT NULL, `name` text NOT NULL, `name_en` text NULL, `kind` text NOT NULL, `division_code` text NULL, `path` text NOT NULL, `sort` integer NOT NULL DEFAULT (0), `organization_children` integer NULL, CONSTRAINT `organizations_organizations_children` FOREIGN KEY (`organization_children`) REFERENCES `organizations` (`id`) ON DELETE SET NULL);
-- Create index "organizations_code_key" to table: "organizations"
CREATE UNIQUE INDEX `organizations_code_key` ON `organizations` (`code`);
-- Create index "organization_path" to table: "organizations"
CREATE INDEX `organization_path` ON `organizations` (`path`);
-- Create "plugins" table
CREATE TABLE `plugins` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `plugin_id` text NOT NULL, `version` text NOT NULL, `previous_version` text NULL, `enabled` bool NOT NULL DEFAULT (true), `state` text NOT NULL DEFAULT ('installed'), `last_error` text NULL);
-- Create index "plugins_plugin_id_key" to table: "plugins"
CREATE UNIQUE INDEX `plugins_plugin_id_key` ON `plugins` (`plugin_id`);
-- Create "plugin_bundles" table
CREATE TABLE `plugin_bundles` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `plugin_id` text NOT NULL, `version` text NOT NULL, `digest` text NOT NULL, `signer` text NOT NULL, `binary_sha256` text NOT NULL, `manifest` blob NOT NULL, `installed_at` datetime NOT NULL, `installed_by` text NULL);
-- Create index "pluginbundle_plugin_id_version" to table: "plugin_bundles"
CREATE UNIQUE INDEX `pluginbundle_plugin_id_version` ON `plugin_bundles` (`plugin_id`, `version`);
-- Create "roles" table
CREATE TABLE `roles` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `name_en` text NULL, `builtin` bool NOT NULL DEFAULT (false), `permissions` json NULL);
-- Create index "roles_key_key" to table: "roles"
CREATE UNIQUE INDEX `roles_key_key` ON `roles` (`key`);
-- Create "settings" table
CREATE TABLE `settings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `scope` text NOT NULL, `key` text NOT NULL, `value` text NOT NULL);
-- Create index "setting_scope_key" to table: "settings"
CREATE UNIQUE INDEX `setting_scope_key` ON `settings` (`scope`, `key`);
-- Create "users" table
CREATE TABLE `users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `username` text NOT NULL, `display_name` text NOT NULL, `password_hash` text NULL, `status` text NOT NULL DEFAULT ('active'), `locale` text NULL, `email` text NULL, `mobile` text NULL, `password_changed_at` datetime NULL, `last_login_at` datetime NULL, `organization_users` integer NULL, CONSTRAINT `users_organizations_users` FOREIGN KEY (`organization_users`) REFERENCES `organizations` (`id`) ON DELETE SET NULL);
-- Create index "users_username_key" to table: "users"
CREATE UNIQUE INDEX `users_username_key` ON `users` (`username`);
-- Create "user_roles" table
CREATE TABLE `user_roles` (`user_id` integer NOT NULL, `role_id` integer NOT NULL, PRIMARY KEY (`user_id`, `role_id`), CONSTRAINT `user_roles_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE, CONSTRAINT `user_roles_role_id` FOREIGN KEY (`role_id`) REFERENCES `roles` (`id`) ON DELETE CASCADE);
