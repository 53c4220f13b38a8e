package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		in, dialect, wantErr, notIn string
	}{
		{in: "sqlite://var/portal.db", dialect: "sqlite3"},
		{in: "var/portal.db", dialect: "sqlite3"},
		{in: "mysql://root@tcp(127.0.0.1:3306)/portal", dialect: "mysql"},
		{in: "mysql://u:s3cret@tcp(h:3306)/portal?timeout=2s", dialect: "mysql", notIn: "s3cret"},
		{in: "mysql://u:s3cret@tcp(h:3306", wantErr: "bad database DSN", notIn: "s3cret"},
		{in: "mysql://root@tcp(127.0.0.1:3306)/", wantErr: "no database name"},
		{in: "postgres://x/y", wantErr: "unknown scheme"},
		{in: "", wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := store.ParseDSN(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if tt.notIn != "" && strings.Contains(err.Error(), tt.notIn) {
					t.Fatalf("error echoes the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Dialect != tt.dialect {
				t.Fatalf("dialect = %s, want %s", d.Dialect, tt.dialect)
			}
			if tt.notIn != "" && strings.Contains(d.String(), tt.notIn) {
				t.Fatalf("String() shows the password: %s", d)
			}
			if d.Dialect == "mysql" && !strings.Contains(d.Driver, "parseTime=true") {
				t.Fatalf("parseTime not forced: %s", d.Driver)
			}
		})
	}
}

func TestMigrationsApplyOnceAndMatchSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		pending, err := s.Pending(ctx)
		if err != nil || len(pending) != 0 {
			t.Fatalf("after Migrate: pending = %d, err = %v", len(pending), err)
		}
		again, err := s.Migrate(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second Migrate applied %d, err %v", len(again), err)
		}
		// What auto-migration would still change is what the reviewed files miss.
		var buf bytes.Buffer
		if err := s.Client.Schema.WriteTo(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		var drift []string
		for _, line := range strings.Split(buf.String(), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line == "BEGIN;" || line == "COMMIT;" || strings.HasPrefix(line, "--") {
				continue
			}
			drift = append(drift, line)
		}
		if len(drift) > 0 {
			t.Fatalf("migrations/%s lag the ent schema; run make migration NAME=...:\n%s", dialect, strings.Join(drift, "\n"))
		}
	})
}

func TestEditedMigrationIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		if _, err := s.DB.ExecContext(ctx, "UPDATE portal_schema_migrations SET checksum = 'x'"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrMigrationEdited) {
			t.Fatalf("err = %v, want ErrMigrationEdited", err)
		}
	})
}

func TestChineseTextRoundTrips(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := context.Background()
		city, err := s.Client.Organization.Create().SetCode("310000").SetName("上海市市场监督管理局").
			SetKind(organization.KindCity).SetPath("/310000").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.Client.Organization.Create().SetCode("310101").SetName("黄浦区市场监督管理局𠮷").
			SetKind(organization.KindDistrict).SetDivisionCode("310101").SetPath("/310000/310101").SetParent(city).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Client.Organization.Query().Where(organization.Code("310101")).WithParent().Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != d.Name || got.Edges.Parent.Name != "上海市市场监督管理局" {
			t.Fatalf("got %q under %q", got.Name, got.Edges.Parent.Name)
		}
		if got.CreatedAt.IsZero() || got.CreatedAt.Location().String() != "UTC" {
			t.Fatalf("created_at = %v, want a UTC time", got.CreatedAt)
		}
		// Unique codes are enforced by the database, not only by code.
		if _, err := s.Client.Organization.Create().SetCode("310101").SetName("x").
			SetKind(organization.KindDistrict).SetPath("/x").Save(ctx); err == nil {
			t.Fatal("duplicate organisation code accepted")
		}
	})
}
