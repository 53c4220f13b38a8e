package store

//go:generate go tool ent generate --target ./ent --feature sql/versioned-migration,sql/execquery,sql/lock,sql/upsert ./schema
