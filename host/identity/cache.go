package identity

import (
	"context"
	"slices"
	"sync"

	"entgo.io/ent/dialect/sql"

	"github.com/shanghai-amr/portal/host/store/ent"
)

// identities caches staff identities, which take six or more queries to
// build (the user with its status, roles, posts and organisation, the
// jurisdiction, the custom scopes), by user and access epoch: every change
// to users, roles, posts or organisations raises the epoch in the database
// (ent hooks, see host/store/epoch.go), so a request reads that one value,
// in the same query as its session (withEpoch), and an identity cached
// under another epoch is never used. A change takes effect on the next
// request, on every replica.
type identities struct {
	mu     sync.Mutex
	epoch  int64
	byUser map[int]*Identity
}

// maxCachedIdentities bounds the cache; it is emptied when full.
const maxCachedIdentities = 10000

// epochColumn is the access epoch, read with the session (withEpoch).
const epochColumn = "access_epoch"

// withEpoch adds the access epoch to a session query's columns: one round
// trip to the database for both. A database without the epoch's row reads
// -1 (never NULL, which the SQLite driver cannot give a scan type).
func withEpoch(s *sql.Selector) {
	s.AppendSelectExprAs(sql.Raw("COALESCE((SELECT n FROM access_epoch WHERE id = 1), -1)"), epochColumn)
}

// epochOf is the epoch read with sess; false when there was none (a
// database without the row: nothing is cached then).
func epochOf(sess *ent.Session) (int64, bool) {
	v, err := sess.Value(epochColumn)
	n, ok := v.(int64)
	return n, err == nil && ok && n >= 0
}

// identity is user userID's identity, from the cache when the epoch (read
// before, with the session) has not moved. The caller may change the copy
// it gets, but not its slices.
func (s *Sessions) identity(ctx context.Context, userID int, epoch int64, known bool) (*Identity, error) {
	if !known {
		return s.identityOf(ctx, userID)
	}
	c := &s.cache
	c.mu.Lock()
	if c.epoch != epoch {
		// Any other epoch empties the cache, a lower one too: the epoch
		// only rises, but a database restored from a backup may count again
		// from below, and identities cached before must not come back.
		c.epoch, c.byUser = epoch, nil
	}
	id := c.byUser[userID]
	c.mu.Unlock()
	if id == nil {
		// Loaded after the epoch was read: at worst newer than its epoch,
		// never older.
		var err error
		if id, err = s.identityOf(ctx, userID); err != nil {
			return nil, err
		}
		clip(id)
		c.mu.Lock()
		if c.epoch == epoch {
			if c.byUser == nil || len(c.byUser) >= maxCachedIdentities {
				c.byUser = map[int]*Identity{}
			}
			c.byUser[userID] = id
		}
		c.mu.Unlock()
	}
	cp := *id
	return &cp, nil
}

// clip makes the slices of a cached identity full, so that an append to a
// copy's slice makes a new array instead of writing into the shared one.
func clip(id *Identity) {
	for _, s := range []*[]string{&id.Roles, &id.Posts, &id.Permissions, &id.DataScopes, &id.CustomRoots} {
		*s = slices.Clip(*s)
	}
}
