package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
)

// auditCommands check the audit log of a running portal.
func auditCommands() map[string]command {
	return map[string]command{
		"audit verify": {
			synopsis: "audit verify",
			summary:  "verify the audit log's hash chain",
			doc: "Walk the whole SM3 hash chain of the audit log. Exit 0 when every entry verifies; 1 naming the first " +
				"missing or altered entry otherwise. Needs the audit administrator's permission (audit.verify): " +
				"sign in as the audit administrator and pass the session token (PORTAL_TOKEN or --token-file).",
			run: func(ctx context.Context, std streams, fs *flag.FlagSet, args []string) error {
				c := clientFlags(fs)
				if err := parse(fs, args, 0); err != nil {
					return err
				}
				var out struct{ Verified int }
				if err := c.do(ctx, http.MethodGet, "/api/v1/admin/audit/verify", nil, &out); err != nil {
					return err
				}
				fmt.Fprintf(std.out, "audit log verified: %d entries, chain intact\n", out.Verified)
				return nil
			},
		},
	}
}
