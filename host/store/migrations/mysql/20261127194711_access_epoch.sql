-- Create "access_epoch" table
CREATE TABLE `access_epoch` (`id` bigint NOT NULL AUTO_INCREMENT, `n` bigint NOT NULL DEFAULT 0, PRIMARY KEY (`id`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;
-- The one row the access epoch lives in (host/store/schema/access.go)
INSERT INTO `access_epoch` (`id`, `n`) VALUES (1, 0);
