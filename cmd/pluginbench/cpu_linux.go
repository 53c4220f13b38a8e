//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cpuTime is the CPU time used so far, in clock ticks (10 ms), by this
// process, by its children (the plugin and proxy processes) and by the
// database server (mariadbd or mysqld, if it runs on this machine), and by
// the whole machine (busy, from /proc/stat).
type cpuTime struct{ host, children, db, busy int64 }

const ticksPerSecond = 100 // USER_HZ on Linux

func readCPU() cpuTime {
	var t cpuTime
	self := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		comm, f := s[open+1:close], strings.Fields(s[close+1:])
		if len(f) < 13 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		switch {
		case pid == self:
			t.host += utime + stime
		case ppid == self:
			t.children += utime + stime
		case comm == "mariadbd" || comm == "mysqld":
			t.db += utime + stime
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		// user nice system idle iowait irq softirq steal guest guest_nice:
		// busy is user, nice, system, irq and softirq (guest is in user).
		for i, v := range strings.Fields(line)[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if i <= 2 || i == 5 || i == 6 {
				t.busy += n
			}
		}
	}
	return t
}
