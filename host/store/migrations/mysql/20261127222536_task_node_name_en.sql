-- Modify "tasks" table
ALTER TABLE `tasks` ADD COLUMN `node_name_en` varchar(128) NULL;
