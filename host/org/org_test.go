package org_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

func TestDemoTreeHasSixteenDistrictsWithStations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		created, err := org.SeedDemo(ctx, s.Client)
		if err != nil || !created {
			t.Fatalf("SeedDemo = %v, %v", created, err)
		}
		if again, err := org.SeedDemo(ctx, s.Client); err != nil || again {
			t.Fatalf("second SeedDemo = %v, %v; want a no-op", again, err)
		}
		n, _ := s.Client.Organization.Query().Where(organization.KindEQ(organization.KindDistrict)).Count(ctx)
		if n != 16 {
			t.Fatalf("%d districts, want 16", n)
		}
		// Pudong's subtree by path prefix: the bureau, 3 departments, 3 stations.
		sub, err := s.Client.Organization.Query().Where(organization.PathHasPrefix("/310000/310115")).All(ctx)
		if err != nil || len(sub) != 7 {
			t.Fatalf("Pudong subtree = %d nodes, %v", len(sub), err)
		}
		st, err := s.Client.Organization.Query().Where(organization.Code("310115-S02")).WithParent().Only(ctx)
		if err != nil || !strings.HasPrefix(st.Name, "张江") || st.Edges.Parent.Code != "310115" {
			t.Fatalf("station = %+v, %v", st, err)
		}
	})
}
