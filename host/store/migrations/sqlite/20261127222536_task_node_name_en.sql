-- Add column "node_name_en" to table: "tasks"
ALTER TABLE `tasks` ADD COLUMN `node_name_en` text NULL;
