-- Create "posts" table
CREATE TABLE `posts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `name_en` text NULL);
-- Create index "posts_key_key" to table: "posts"
CREATE UNIQUE INDEX `posts_key_key` ON `posts` (`key`);
-- Create "user_posts" table
CREATE TABLE `user_posts` (`user_id` integer NOT NULL, `post_id` integer NOT NULL, PRIMARY KEY (`user_id`, `post_id`), CONSTRAINT `user_posts_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE, CONSTRAINT `user_posts_post_id` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) ON DELETE CASCADE);
