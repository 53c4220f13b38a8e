-- Create "posts" table
CREATE TABLE `posts` (`id` bigint NOT NULL AUTO_INCREMENT, `created_at` datetime(6) NOT NULL, `updated_at` datetime(6) NOT NULL, `key` varchar(64) NOT NULL, `name` varchar(64) NOT NULL, `name_en` varchar(64) NULL, PRIMARY KEY (`id`), UNIQUE INDEX `key` (`key`)) CHARSET utf8mb4 COLLATE utf8mb4_bin;
-- Create "user_posts" table
CREATE TABLE `user_posts` (`user_id` bigint NOT NULL, `post_id` bigint NOT NULL, PRIMARY KEY (`user_id`, `post_id`), INDEX `user_posts_post_id` (`post_id`), CONSTRAINT `user_posts_post_id` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) ON UPDATE RESTRICT ON DELETE CASCADE, CONSTRAINT `user_posts_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON UPDATE RESTRICT ON DELETE CASCADE) CHARSET utf8mb4 COLLATE utf8mb4_bin;
