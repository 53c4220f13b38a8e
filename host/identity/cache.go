package identity

import (
	"context"
	"slices"
	"sync"

	"github.com/shanghai-amr/portal/host/store/ent"
)

// identities caches staff identities, which take six or more queries to
// build (the user with its status, roles, posts and organisation, the
// jurisdiction, the custom scopes), by user and access epoch: every change
// to users, roles, posts or organisations raises the epoch in the database
// (an ent hook, see host/store/schema/access.go), so a request reads that
// one row and an identity cached under an older epoch is never used. A
// change takes effect on the next request, on every replica.
type identities struct {
	mu     sync.Mutex
	epoch  int64
	byUser map[int]*Identity
}

// maxCachedIdentities bounds the cache; it is emptied when full.
const maxCachedIdentities = 10000

// identity is user userID's identity, from the cache when the epoch has not
// moved. The caller may change the copy it gets, but not its slices.
func (s *Sessions) identity(ctx context.Context, userID int) (*Identity, error) {
	e, err := s.client.AccessEpoch.Get(ctx, 1)
	if ent.IsNotFound(err) {
		return s.identityOf(ctx, userID) // a database without the row: no caching
	} else if err != nil {
		return nil, err
	}
	c := &s.cache
	c.mu.Lock()
	if c.epoch != e.N {
		// Any other epoch empties the cache, a lower one too: the epoch
		// only rises, but a database restored from a backup may count again
		// from below, and identities cached before must not come back.
		c.epoch, c.byUser = e.N, nil
	}
	id := c.byUser[userID]
	c.mu.Unlock()
	if id == nil {
		// Loaded after the epoch was read: at worst newer than its epoch,
		// never older.
		if id, err = s.identityOf(ctx, userID); err != nil {
			return nil, err
		}
		clip(id)
		c.mu.Lock()
		if c.epoch == e.N {
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
