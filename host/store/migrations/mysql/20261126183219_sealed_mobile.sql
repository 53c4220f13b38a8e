-- Modify "users" table
ALTER TABLE `users` MODIFY COLUMN `mobile` varchar(255) NULL;
