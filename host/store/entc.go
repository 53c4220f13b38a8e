//go:build ignore

// entc.go generates the ent client from ./schema (go generate runs it). It
// drives ent's generator as a library rather than the ent command, whose
// table printer does not build against the newer tablewriter that OPA needs.
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/shanghai-amr/portal/host/store/ent",
		Features: []gen.Feature{
			gen.FeatureVersionedMigration, gen.FeatureExecQuery, gen.FeatureLock, gen.FeatureUpsert, gen.FeatureModifier,
		},
	})
	if err != nil {
		log.Fatalf("entc: %v", err)
	}
}
