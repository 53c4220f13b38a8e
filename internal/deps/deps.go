// Package deps pins modules that the tree is about to use so that go mod tidy
// keeps them while parallel work lands; it is removed once they are imported.
package deps

import (
	_ "github.com/Masterminds/semver/v3"
	_ "github.com/hashicorp/go-hclog"
	_ "github.com/hashicorp/go-plugin"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/spf13/afero"
	_ "google.golang.org/grpc"
	_ "google.golang.org/protobuf/proto"
)
