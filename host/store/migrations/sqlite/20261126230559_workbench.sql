-- Create "events" table
CREATE TABLE `events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `event_id` text NOT NULL, `type` text NOT NULL, `source` text NOT NULL, `data` blob NULL, `created_at` datetime NOT NULL, `relayed_at` datetime NULL);
-- Create index "events_event_id_key" to table: "events"
CREATE UNIQUE INDEX `events_event_id_key` ON `events` (`event_id`);
-- Create index "event_relayed_at" to table: "events"
CREATE INDEX `event_relayed_at` ON `events` (`relayed_at`);
-- Create index "event_created_at" to table: "events"
CREATE INDEX `event_created_at` ON `events` (`created_at`);
-- Create "event_deliveries" table
CREATE TABLE `event_deliveries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `event_id` text NOT NULL, `subscriber` text NOT NULL, `status` text NOT NULL DEFAULT ('pending'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `last_error` text NULL, `delivered_at` datetime NULL);
-- Create index "eventdelivery_event_id_subscriber" to table: "event_deliveries"
CREATE UNIQUE INDEX `eventdelivery_event_id_subscriber` ON `event_deliveries` (`event_id`, `subscriber`);
-- Create index "eventdelivery_status_next_attempt_at" to table: "event_deliveries"
CREATE INDEX `eventdelivery_status_next_attempt_at` ON `event_deliveries` (`status`, `next_attempt_at`);
-- Create "job_runs" table
CREATE TABLE `job_runs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `job` text NOT NULL, `slot` datetime NOT NULL, `runner` text NOT NULL, `status` text NOT NULL DEFAULT ('running'), `started_at` datetime NOT NULL, `finished_at` datetime NULL, `error` text NULL);
-- Create index "jobrun_job_slot" to table: "job_runs"
CREATE UNIQUE INDEX `jobrun_job_slot` ON `job_runs` (`job`, `slot`);
-- Create "messages" table
CREATE TABLE `messages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `recipient_id` integer NOT NULL, `category` text NOT NULL, `source` text NULL, `template` text NOT NULL, `params` text NULL, `link` text NULL, `created_at` datetime NOT NULL, `read_at` datetime NULL);
-- Create index "message_recipient_id_read_at" to table: "messages"
CREATE INDEX `message_recipient_id_read_at` ON `messages` (`recipient_id`, `read_at`);
-- Create "process_actions" table
CREATE TABLE `process_actions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `instance_id` integer NOT NULL, `task_id` integer NULL, `node_id` text NULL, `actor_id` integer NULL, `actor` text NOT NULL, `action` text NOT NULL, `comment` text NULL, `attachments` json NULL, `detail` text NULL, `at` datetime NOT NULL);
-- Create index "processaction_instance_id" to table: "process_actions"
CREATE INDEX `processaction_instance_id` ON `process_actions` (`instance_id`);
-- Create "process_definitions" table
CREATE TABLE `process_definitions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `version` integer NOT NULL, `plugin` text NULL, `source` text NOT NULL, `plugin_version` text NULL, `spec` text NOT NULL, `digest` text NOT NULL, `created_by` text NOT NULL, `created_at` datetime NOT NULL);
-- Create index "processdefinition_key_version" to table: "process_definitions"
CREATE UNIQUE INDEX `processdefinition_key_version` ON `process_definitions` (`key`, `version`);
-- Create "process_instances" table
CREATE TABLE `process_instances` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `definition_id` integer NOT NULL, `key` text NOT NULL, `version` integer NOT NULL, `plugin` text NULL, `business_key` text NULL, `title` text NOT NULL, `link` text NULL, `initiator_id` integer NOT NULL, `org_path` text NOT NULL, `form` text NOT NULL, `status` text NOT NULL DEFAULT ('running'), `state` text NOT NULL, `due_at` datetime NULL, `started_at` datetime NOT NULL, `ended_at` datetime NULL, `urge_count` integer NOT NULL DEFAULT (0));
-- Create index "processinstance_initiator_id_started_at" to table: "process_instances"
CREATE INDEX `processinstance_initiator_id_started_at` ON `process_instances` (`initiator_id`, `started_at`);
-- Create index "processinstance_plugin_business_key" to table: "process_instances"
CREATE INDEX `processinstance_plugin_business_key` ON `process_instances` (`plugin`, `business_key`);
-- Create index "processinstance_status_due_at" to table: "process_instances"
CREATE INDEX `processinstance_status_due_at` ON `process_instances` (`status`, `due_at`);
-- Create "tasks" table
CREATE TABLE `tasks` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `plugin` text NULL, `kind` text NOT NULL, `type` text NOT NULL, `title` text NOT NULL, `business_key` text NULL, `link` text NULL, `instance_id` integer NULL, `node_id` text NULL, `node_name` text NULL, `round` integer NOT NULL DEFAULT (0), `seq` integer NOT NULL DEFAULT (0), `parent_id` integer NULL, `relation` text NULL, `assignee_id` integer NULL, `initiator_id` integer NULL, `org_path` text NULL, `status` text NOT NULL DEFAULT ('open'), `outcome` text NULL, `reason` text NOT NULL, `created_at` datetime NOT NULL, `due_at` datetime NULL, `yellow_at` datetime NULL, `orange_at` datetime NULL, `warned` integer NOT NULL DEFAULT (0), `clock` text NULL, `completed_at` datetime NULL, `completed_by` integer NULL, `comment` text NULL, `urge_count` integer NOT NULL DEFAULT (0), `read_at` datetime NULL);
-- Create index "task_assignee_id_status_due_at_kind" to table: "tasks"
CREATE INDEX `task_assignee_id_status_due_at_kind` ON `tasks` (`assignee_id`, `status`, `due_at`, `kind`);
-- Create index "task_assignee_id_kind_created_at" to table: "tasks"
CREATE INDEX `task_assignee_id_kind_created_at` ON `tasks` (`assignee_id`, `kind`, `created_at`);
-- Create index "task_completed_by_status_completed_at" to table: "tasks"
CREATE INDEX `task_completed_by_status_completed_at` ON `tasks` (`completed_by`, `status`, `completed_at`);
-- Create index "task_instance_id" to table: "tasks"
CREATE INDEX `task_instance_id` ON `tasks` (`instance_id`);
-- Create index "task_status_due_at" to table: "tasks"
CREATE INDEX `task_status_due_at` ON `tasks` (`status`, `due_at`);
-- Create index "task_status_warned_yellow_at" to table: "tasks"
CREATE INDEX `task_status_warned_yellow_at` ON `tasks` (`status`, `warned`, `yellow_at`);
-- Create "task_candidates" table
CREATE TABLE `task_candidates` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `task_id` integer NOT NULL, `user_id` integer NOT NULL);
-- Create index "taskcandidate_user_id_task_id" to table: "task_candidates"
CREATE UNIQUE INDEX `taskcandidate_user_id_task_id` ON `task_candidates` (`user_id`, `task_id`);
-- Create index "taskcandidate_task_id" to table: "task_candidates"
CREATE INDEX `taskcandidate_task_id` ON `task_candidates` (`task_id`);
