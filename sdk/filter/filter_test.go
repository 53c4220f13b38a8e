package filter

import (
	"errors"

	"entgo.io/ent/dialect/sql"
	"reflect"
	"testing"

	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

func TestSQL(t *testing.T) {
	cols := map[string]string{"resource.org_path": "org_path", "resource.owner": "created_by"}
	for _, tt := range []struct {
		name  string
		f     *pluginv1.DataFilterResponse
		where string
		args  []any
		err   error
	}{
		{"everything", &pluginv1.DataFilterResponse{Unconditional: true}, "1 = 1", nil, nil},
		{"nothing", &pluginv1.DataFilterResponse{AllowNone: true}, "1 = 0", nil, nil},
		{"nil is nothing", nil, "1 = 0", nil, nil},
		{"district", &pluginv1.DataFilterResponse{Ucast: []byte(`{"operator":"or","type":"compound","value":[
			{"field":"resource.org_path","operator":"eq","type":"field","value":"/310000/310115"},
			{"field":"resource.org_path","operator":"startswith","type":"field","value":"/310000/310115/"}]}`)},
			`(org_path = ?) OR (org_path LIKE ? ESCAPE '!')`, []any{"/310000/310115", "/310000/310115/%"}, nil},
		{"escapes LIKE wildcards", &pluginv1.DataFilterResponse{Ucast: []byte(`{"field":"resource.owner","operator":"startswith","type":"field","value":"a_b%"}`)},
			`created_by LIKE ? ESCAPE '!'`, []any{`a!_b!%%`}, nil},
		{"unmapped fails closed", &pluginv1.DataFilterResponse{Ucast: []byte(`{"field":"resource.secret","operator":"eq","type":"field","value":1}`)},
			"", nil, ErrUnmapped},
	} {
		t.Run(tt.name, func(t *testing.T) {
			where, args, err := SQL(tt.f, cols)
			if !errors.Is(err, tt.err) || where != tt.where || !reflect.DeepEqual(args, tt.args) {
				t.Fatalf("got %q %v %v; want %q %v %v", where, args, err, tt.where, tt.args, tt.err)
			}
		})
	}
}

func TestEnt(t *testing.T) {
	cols := map[string]string{"resource.org_path": "org_path"}
	district := &pluginv1.DataFilterResponse{Ucast: []byte(`{"operator":"or","type":"compound","value":[
		{"field":"resource.org_path","operator":"eq","type":"field","value":"/310000/310115"},
		{"field":"resource.org_path","operator":"startswith","type":"field","value":"/310000/310115/"}]}`)}
	p, err := Ent(district, cols)
	if err != nil {
		t.Fatal(err)
	}
	q, args := sql.Select("*").From(sql.Table("notices")).Where(p).Query()
	if q != "SELECT * FROM `notices` WHERE `org_path` = ? OR `org_path` LIKE ?" || len(args) != 2 || args[1] != "/310000/310115/%" {
		t.Fatalf("%s %v", q, args)
	}
	if _, err := Ent(&pluginv1.DataFilterResponse{Ucast: []byte(`{"field":"resource.x","operator":"eq","type":"field","value":1}`)}, cols); !errors.Is(err, ErrUnmapped) {
		t.Fatalf("unmapped: %v", err)
	}
	none, _ := Ent(&pluginv1.DataFilterResponse{AllowNone: true}, cols)
	q, _ = sql.Select("*").From(sql.Table("t")).Where(none).Query()
	if q != "SELECT * FROM `t` WHERE FALSE" {
		t.Fatalf("none: %s", q)
	}
}
