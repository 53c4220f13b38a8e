package plugins

import (
	"encoding/hex"
	"fmt"
)

func hexBytes(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("plugins: bad sha256 %q", s)
	}
	return b, nil
}
