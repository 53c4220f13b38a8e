// Command crasher has the test plugin's manifest but exits at start: the host
// must refuse it (install) or keep the old version serving (upgrade).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "crasher: exiting at start on purpose")
	os.Exit(3)
}
