-- Create "access_epoch" table
CREATE TABLE `access_epoch` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `n` integer NOT NULL DEFAULT (0));
-- The one row the access epoch lives in (host/store/schema/access.go)
INSERT INTO `access_epoch` (`id`, `n`) VALUES (1, 0);
