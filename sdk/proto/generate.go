// Package proto holds the wire contract (plugin.proto); the generated Go code is
// in ./pluginv1. Regenerate with make generate (protoc from Debian's
// protobuf-compiler; protoc-gen-go and protoc-gen-go-grpc pinned as go tools).
package proto

//go:generate sh -c "mkdir -p pluginv1 && protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$(go tool -n protoc-gen-go-grpc) --go_out=pluginv1 --go_opt=paths=source_relative --go-grpc_out=pluginv1 --go-grpc_opt=paths=source_relative plugin.proto"
