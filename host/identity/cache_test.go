package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/org"
	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
	"github.com/shanghai-amr/portal/host/store/ent/user"
	"github.com/shanghai-amr/portal/host/store/storetest"
)

// A staff identity is cached by user and access epoch: a change made through
// the store raises the epoch and takes effect on the next request, and one
// made behind the store's back (raw SQL, which nothing here does) would show
// only with the next epoch — which is how the test sees the cache at work.
func TestIdentityFollowsEveryChangeOnTheNextRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, identity.Options{})
		ctx := context.Background()
		r, sess := f.login(t, "pd_li", identity.DemoPassword)
		if r.code != 200 {
			t.Fatalf("login = %d %s", r.code, r.body)
		}
		me := func() (int, identity.Identity) {
			t.Helper()
			r := f.do(t, "GET", "/api/v1/auth/me", "", map[string]string{"Authorization": "Bearer " + sess.Token})
			var id identity.Identity
			_ = json.Unmarshal([]byte(r.body), &id)
			return r.code, id
		}
		if code, id := me(); code != 200 || !slices.Contains(id.Roles, "handler") || !slices.Contains(id.Posts, "enforcement") || id.OrgCode != "310115-D03" {
			t.Fatalf("before: %d %+v", code, id)
		}

		// Behind the store's back: the cached identity still serves.
		if _, err := f.st.DB.ExecContext(ctx, "UPDATE roles SET permissions = ? WHERE `key` = 'handler'", `["cache.probe"]`); err != nil {
			t.Fatal(err)
		}
		if _, id := me(); slices.Contains(id.Permissions, "cache.probe") {
			t.Fatal("the identity was rebuilt without a change of epoch: nothing is cached")
		}
		// Any change through the store (here, an unrelated post) raises the
		// epoch, and the next request sees the database as it is.
		if err := f.st.Client.Post.Create().SetKey("probe").SetName("探针").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, id := me(); !slices.Equal(id.Permissions, []string{"cache.probe"}) {
			t.Fatalf("after the epoch moved: permissions %v", id.Permissions)
		}

		// Each kind of change, through the store, on the next request.
		li := f.st.Client.User.Query().Where(user.Username("pd_li")).OnlyX(ctx)
		li.Update().ClearPosts().ExecX(ctx)
		if _, id := me(); len(id.Posts) != 0 {
			t.Fatalf("posts after removal: %v", id.Posts)
		}
		f.st.Client.Organization.Update().Where(organization.Code("310115-D03")).SetPath("/310000/310115/310115-D03x").ExecX(ctx)
		if _, id := me(); id.OrgPath != "/310000/310115/310115-D03x" {
			t.Fatalf("organisation path after the change: %q", id.OrgPath)
		}
		li.Update().SetStatus(user.StatusDisabled).ExecX(ctx)
		if code, _ := me(); code != 401 {
			t.Fatalf("a disabled user's next request = %d", code)
		}
	})
}

// Without the epoch's row (a database restored without it), staff still
// sign in and every request reads the database as it is: nothing is cached.
func TestNoEpochRowNothingCached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect, identity.Options{})
		ctx := context.Background()
		r, sess := f.login(t, "pd_li", identity.DemoPassword)
		if r.code != 200 {
			t.Fatalf("login = %d %s", r.code, r.body)
		}
		if _, err := f.st.DB.ExecContext(ctx, "DELETE FROM access_epoch"); err != nil {
			t.Fatal(err)
		}
		me := func() identity.Identity {
			t.Helper()
			r := f.do(t, "GET", "/api/v1/auth/me", "", map[string]string{"Authorization": "Bearer " + sess.Token})
			var id identity.Identity
			if err := json.Unmarshal([]byte(r.body), &id); err != nil || r.code != 200 {
				t.Fatalf("me = %d %s", r.code, r.body)
			}
			return id
		}
		me()
		if _, err := f.st.DB.ExecContext(ctx, "UPDATE roles SET permissions = ? WHERE `key` = 'handler'", `["cache.probe"]`); err != nil {
			t.Fatal(err)
		}
		if id := me(); !slices.Equal(id.Permissions, []string{"cache.probe"}) {
			t.Fatalf("without the epoch's row an identity was cached: %v", id.Permissions)
		}
	})
}

// A staff session without its account (the account's row gone, its column
// set to NULL) is refused, never taken for an external identity.
func TestStaffSessionWithoutAccountIsRefused(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	token := "pst_orphan"
	sum := sha256.Sum256([]byte(token))
	now := time.Now().UTC()
	st.Client.Session.Create().SetTokenHash(hex.EncodeToString(sum[:])).SetCsrfToken("c").SetCreatedAt(now).
		SetLastSeenAt(now).SetExpiresAt(now.Add(time.Hour)).ExecX(ctx)
	s := identity.NewSessions(st.Client, audit.New(st.Client, nil), identity.Options{})
	req := httptest.NewRequest("GET", "/api/v1/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if id, err := s.Authenticate(req); !errors.Is(err, identity.ErrBadCredentials) {
		t.Fatalf("an orphaned staff session: %+v, %v", id, err)
	}
}

// The epoch moves with what an identity is made of, in the mutation's
// transaction, and not with a login's timestamp.
func TestAccessEpochMovesWithIdentityChangesOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := context.Background()
		epoch := func() int64 { return st.Client.AccessEpoch.GetX(ctx, 1).N }
		moved := func(what string, change func()) {
			t.Helper()
			before := epoch()
			change()
			if epoch() == before {
				t.Fatalf("%s did not move the epoch", what)
			}
		}
		moved("a new organisation", func() {
			st.Client.Organization.Create().SetCode("310000").SetName("市局").SetKind(organization.KindCity).SetPath("/310000").ExecX(ctx)
		})
		moved("a new role", func() { st.Client.Role.Create().SetKey("r").SetName("角色").ExecX(ctx) })
		moved("a new user", func() {
			st.Client.User.Create().SetUsername("u").SetDisplayName("用户").AddRoles(st.Client.Role.Query().OnlyX(ctx)).ExecX(ctx)
		})
		u := st.Client.User.Query().OnlyX(ctx)
		moved("a role taken away", func() { u.Update().ClearRoles().ExecX(ctx) })
		moved("a display name", func() { u.Update().SetDisplayName("新名").ExecX(ctx) })

		before := epoch()
		u.Update().SetLastLoginAt(time.Now()).ExecX(ctx)
		if epoch() != before {
			t.Fatal("a login's timestamp moved the epoch")
		}
		tx, err := st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.User.UpdateOneID(u.ID).SetDisplayName("回滚").ExecX(ctx)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if epoch() != before {
			t.Fatal("a rolled-back change moved the epoch")
		}
		err = withTx(ctx, st.Client, func(tx *ent.Tx) error {
			return tx.Role.Update().SetName("已改").Exec(ctx)
		})
		if err != nil || epoch() == before {
			t.Fatalf("a committed change: %v, epoch %d → %d", err, before, epoch())
		}
	})
}

func withTx(ctx context.Context, c *ent.Client, f func(*ent.Tx) error) error {
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// BenchmarkAuthenticate is what authenticating a staff request costs: the
// session with the access epoch in one query, and the identity from the cache.
func BenchmarkAuthenticate(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			st := storetest.Open(b, dialect)
			ctx := context.Background()
			if _, err := org.SeedDemo(ctx, st.Client); err != nil {
				b.Fatal(err)
			}
			if err := identity.EnsureBuiltinRoles(ctx, st.Client); err != nil {
				b.Fatal(err)
			}
			if _, err := identity.SeedDemoUsers(ctx, st.Client, testSealer(b)); err != nil {
				b.Fatal(err)
			}
			s := identity.NewSessions(st.Client, audit.New(st.Client, nil), identity.Options{})
			sess, err := s.Login(ctx, "pd_li", identity.DemoPassword, "127.0.0.1", "bench")
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/api/v1/auth/me", nil)
			req.Header.Set("Authorization", "Bearer "+sess.Token)
			for b.Loop() {
				if id, err := s.Authenticate(req); err != nil || id.Username != "pd_li" {
					b.Fatal(id, err)
				}
			}
		})
	}
}
