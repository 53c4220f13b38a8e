// Package org owns the organisation tree: the city bureau 市局 at the root, the
// 16 district bureaus 区局 under it, market stations 市场所 under each district,
// and internal departments 科/处室 at any level. Each node stores the
// materialised path of codes from the root so that "this unit and everything
// under it" is one indexed prefix query.
package org

import (
	"context"
	"fmt"

	"github.com/shanghai-amr/portal/host/store/ent"
	"github.com/shanghai-amr/portal/host/store/ent/organization"
)

// Node describes one organisation to create.
type Node struct {
	Code, Name, NameEn string
	Kind               organization.Kind
	DivisionCode       string
	Children           []Node
}

// Create stores n and its children under parent (nil for the root) in one
// transaction, computing each node's path.
func Create(ctx context.Context, client *ent.Client, parent *ent.Organization, n Node) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := create(ctx, tx.Client(), parent, n, 0); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func create(ctx context.Context, c *ent.Client, parent *ent.Organization, n Node, sort int) error {
	path := "/" + n.Code
	if parent != nil {
		path = parent.Path + path
	}
	q := c.Organization.Create().SetCode(n.Code).SetName(n.Name).SetKind(n.Kind).
		SetPath(path).SetSort(sort)
	if n.NameEn != "" {
		q.SetNameEn(n.NameEn)
	}
	if n.DivisionCode != "" {
		q.SetDivisionCode(n.DivisionCode)
	}
	if parent != nil {
		q.SetParent(parent)
	}
	o, err := q.Save(ctx)
	if err != nil {
		return fmt.Errorf("org: create %s %s: %w", n.Code, n.Name, err)
	}
	for i, ch := range n.Children {
		if err := create(ctx, c, o, ch, i); err != nil {
			return err
		}
	}
	return nil
}
