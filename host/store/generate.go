package store

//go:generate go run entc.go
