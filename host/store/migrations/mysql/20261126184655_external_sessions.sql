-- Modify "sessions" table
ALTER TABLE `sessions` DROP FOREIGN KEY `sessions_users_user`;
-- Modify "sessions" table
ALTER TABLE `sessions` MODIFY COLUMN `session_user` bigint NULL, ADD COLUMN `audience` enum('staff','enterprise','public') NOT NULL DEFAULT 'staff', ADD COLUMN `provider` varchar(64) NULL, ADD COLUMN `subject` varchar(255) NULL, ADD COLUMN `display_name` varchar(128) NULL, ADD COLUMN `uscc` varchar(18) NULL, ADD COLUMN `id_number` varchar(255) NULL, ADD CONSTRAINT `sessions_users_user` FOREIGN KEY (`session_user`) REFERENCES `users` (`id`) ON UPDATE RESTRICT ON DELETE SET NULL;
