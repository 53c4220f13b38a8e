-- Create "login_throttles" table
CREATE TABLE `login_throttles` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `username` text NOT NULL, `failures` integer NOT NULL DEFAULT (0), `first_failure_at` datetime NOT NULL, `locked_until` datetime NULL);
-- Create index "login_throttles_username_key" to table: "login_throttles"
CREATE UNIQUE INDEX `login_throttles_username_key` ON `login_throttles` (`username`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `token_hash` text NOT NULL, `csrf_token` text NOT NULL, `created_at` datetime NOT NULL, `last_seen_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `ip` text NULL, `user_agent` text NULL, `session_user` integer NOT NULL, CONSTRAINT `sessions_users_user` FOREIGN KEY (`session_user`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- Create index "session_expires_at" to table: "sessions"
CREATE INDEX `session_expires_at` ON `sessions` (`expires_at`);
