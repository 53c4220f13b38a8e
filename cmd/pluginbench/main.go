// Command pluginbench measures what the plugin boundary costs. In one run on
// one machine it serves the same trivial handler three ways and loads each from
// loopback clients:
//
//	(a) in-process: a gin route in the host
//	(b) plugin: the same answer from a plugin process, through the host's router and gRPC
//	(c) proxy: a separate process behind httputil.ReverseProxy over a Unix socket
//	    (the microservice alternative)
//	(d) floor: the in-process handler, then one 1-byte round trip to an echo
//	    server in another process over a kept Unix-socket connection — the
//	    cheapest hop to another process a request can take on its own
//	    ((b) batches requests, which this does not)
//
// and, with -mysql DSN, a handler doing one indexed MySQL read as (a), (b) and (d).
// The paths of a case take turns: each is loaded -rounds times for
// -duration/-rounds, so a machine that slows down or speeds up during the run
// weighs on every path alike; the table sums the rounds and each path's
// ratio to (a) is also given round by round.
// On Linux it also prints, from /proc, the CPU time each process used per
// request and how many CPUs were busy: what explains the ratios under load.
//
//	go run ./cmd/pluginbench -duration 9s -rounds 3 -clients 1,64 [-mysql 'root@tcp(127.0.0.1:3306)/']
//
// Only loopback addresses are used; every load loop ends after -duration.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shanghai-amr/portal/host/audit"
	"github.com/shanghai-amr/portal/host/i18n"
	"github.com/shanghai-amr/portal/host/identity"
	"github.com/shanghai-amr/portal/host/plugins"
	"github.com/shanghai-amr/portal/host/policy"
	"github.com/shanghai-amr/portal/host/server"
	"github.com/shanghai-amr/portal/host/store"
	"github.com/shanghai-amr/portal/sdk/bundle"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-serve-unix" {
		serveUnix(os.Args[2])
		return
	}
	duration := flag.Duration("duration", 9*time.Second, "load time per path and client count, over all rounds")
	rounds := flag.Int("rounds", 3, "turns the paths of a case take")
	clientsFlag := flag.String("clients", "1,64", "concurrent clients, comma-separated")
	mysqlDSN := flag.String("mysql", "", "MySQL server for the indexed-read case, e.g. root@tcp(127.0.0.1:3306)/")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the host process (with the load generator) over the whole run to this file")
	flag.Parse()
	var clients []int
	for _, s := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 512 {
			fatal(fmt.Errorf("bad -clients %q", s))
		}
		clients = append(clients, n)
	}
	if *rounds < 1 || *rounds > 100 {
		fatal(fmt.Errorf("bad -rounds %d", *rounds))
	}
	turn := *duration / time.Duration(*rounds)
	if *cpuProfile != "" {
		out, err := os.Create(*cpuProfile)
		if err != nil {
			fatal(err)
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	work, err := os.MkdirTemp("", "pluginbench")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(work)

	fmt.Fprintf(os.Stderr, "building the test plugin bundle…\n")
	key, _ := bundle.GenerateKey("bench")
	if _, _, err := bundle.WriteKeyPair(filepath.Join(work, "data", "trust"), key); err != nil {
		fatal(err)
	}
	bundlePath := filepath.Join(work, "testplugin.tar.gz")
	if _, err := bundle.Build(context.Background(), bundle.BuildOptions{PluginDir: "host/plugins/testdata/testplugin",
		Version: "1.0.0", Key: key.Private, Out: bundlePath}); err != nil {
		fatal(fmt.Errorf("%w (run from the repository root)", err))
	}

	rows, cpuRows := [][]string{}, [][]string{}
	echo := &hopper{sock: filepath.Join(work, "bench.sock.ping"), idle: make(chan net.Conn, 256)}
	defer echo.close()
	trivial := startHost(work, "sqlite://"+filepath.Join(work, "data", "portal.db"), bundlePath, echo)
	defer trivial.close()
	proxyURL, stopProxy := startProxy(trivial, work)
	defer stopProxy()
	floor := pingFloor(echo, 20000)
	var byRound []string
	// run loads the paths of one case in turns and records them.
	run := func(handler string, n int, paths []string, urls []string) {
		rs := interleave(urls, n, *rounds, turn)
		a := rs[0]
		for i, r := range rs {
			rows = append(rows, row(handler, paths[i], n, r, a))
			cpuRows = append(cpuRows, cpuRow(handler, paths[i], n, r))
		}
		for p, r := range rs[1:] {
			ratios := make([]string, len(a.rounds))
			for i := range a.rounds {
				ratios[i] = fmt.Sprintf("%.2f", r.rounds[i].rps/a.rounds[i].rps)
			}
			byRound = append(byRound, fmt.Sprintf("| %s | %s | %d | %s |", handler, paths[p+1], n, strings.Join(ratios, ", ")))
		}
	}
	for _, n := range clients {
		run("trivial", n, []string{"(a) in-process", "(b) plugin", "(c) reverse proxy", "(d) floor"},
			[]string{trivial.url + "/api/v1/bench/trivial", trivial.url + "/api/plugins/testplugin/version", proxyURL,
				trivial.url + "/api/v1/bench/trivial-hop"})
	}
	if *mysqlDSN != "" {
		db := "pluginbench_" + strconv.Itoa(os.Getpid())
		dsn := strings.TrimSuffix(strings.TrimPrefix(*mysqlDSN, "mysql://"), "/") + "/" + db
		h := startHost(filepath.Join(work, "m"), "mysql://"+dsn, bundlePath, echo)
		defer dropMySQL(*mysqlDSN, db)
		defer h.close()
		for _, n := range clients {
			run("indexed MySQL read", n, []string{"(a) in-process", "(b) plugin", "(d) floor"},
				[]string{h.url + "/api/v1/bench/db", h.url + "/api/plugins/testplugin/db", h.url + "/api/v1/bench/db-hop"})
		}
	}
	fmt.Printf("\n%s, %d cores, %s, %s, %v per path in %d rounds\n\n", runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02"), *duration, *rounds)
	fmt.Printf("floor: one 1-byte round trip to another process over a Unix socket, p50 %s, p99 %s\n\n", us(floor.p50), us(floor.p99))
	fmt.Println("| handler | path | clients | requests | errors | req/s | p50 | p99 | vs (a) req/s |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Println("| " + strings.Join(r, " | ") + " |")
	}
	fmt.Println("\nreq/s against (a), round by round:")
	fmt.Println()
	fmt.Println("| handler | path | clients | rounds |")
	fmt.Println("|---|---|---:|---|")
	for _, r := range byRound {
		fmt.Println(r)
	}
	if runtime.GOOS != "linux" {
		return
	}
	fmt.Println("\nCPU time per request (µs) from /proc: the host process (with the load generator), its child")
	fmt.Println("processes (the plugin, or the proxied server), the database server, and the whole machine; and")
	fmt.Println("how many of the machine's CPUs were busy on average.")
	fmt.Println()
	fmt.Println("| handler | path | clients | host | plugin / server | database | machine | CPUs busy |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range cpuRows {
		fmt.Println("| " + strings.Join(r, " | ") + " |")
	}
}

// cpuRow is r's CPU time per request and the CPUs busy during it.
func cpuRow(handler, path string, clients int, r result) []string {
	per := func(ticks int64) string {
		if r.n == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f", float64(ticks)*1e6/ticksPerSecond/float64(r.n))
	}
	busy := float64(r.cpu.busy) / ticksPerSecond / r.elapsed.Seconds()
	return []string{handler, path, strconv.Itoa(clients), per(r.cpu.host), per(r.cpu.children), per(r.cpu.db), per(r.cpu.busy), fmt.Sprintf("%.2f", busy)}
}

type result struct {
	n, errors int
	rps       float64
	p50, p99  time.Duration
	cpu       cpuTime // used during the load
	elapsed   time.Duration
	lat       []time.Duration // sorted
	rounds    []result        // what was summed, when it was
}

// interleave loads each of urls in turn, rounds times for d each, and sums
// each url's rounds.
func interleave(urls []string, clients, rounds int, d time.Duration) []result {
	per := make([][]result, len(urls))
	for range rounds {
		for i, u := range urls {
			per[i] = append(per[i], measure(u, clients, d))
		}
	}
	out := make([]result, len(urls))
	for i, rs := range per {
		out[i] = sum(rs)
	}
	return out
}

// sum is the rounds rs as one result.
func sum(rs []result) result {
	t := result{rounds: rs}
	for _, r := range rs {
		t.n += r.n
		t.errors += r.errors
		t.elapsed += r.elapsed
		t.lat = append(t.lat, r.lat...)
		t.cpu = cpuTime{t.cpu.host + r.cpu.host, t.cpu.children + r.cpu.children, t.cpu.db + r.cpu.db, t.cpu.busy + r.cpu.busy}
	}
	slices.Sort(t.lat)
	t.rps = float64(t.n) / t.elapsed.Seconds()
	if len(t.lat) > 0 {
		t.p50, t.p99 = t.lat[len(t.lat)/2], t.lat[len(t.lat)*99/100]
	}
	return t
}

func row(handler, path string, clients int, r, base result) []string {
	return []string{handler, path, strconv.Itoa(clients), strconv.Itoa(r.n), strconv.Itoa(r.errors),
		fmt.Sprintf("%.0f", r.rps), us(r.p50), us(r.p99), fmt.Sprintf("%.2f×", r.rps/base.rps)}
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }

// measure runs clients loops against url for d and returns latency percentiles.
func measure(url string, clients int, d time.Duration) result {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	// Warm up connections and caches.
	for range 2 * clients {
		if resp, err := c.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	cpu0 := readCPU()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1<<14)
			bad := 0
			for time.Now().Before(end) {
				t0 := time.Now()
				resp, err := c.Get(url)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					bad++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1 := readCPU()
	slices.Sort(lat)
	r := result{n: len(lat), errors: errs, rps: float64(len(lat)) / elapsed.Seconds(), elapsed: elapsed, lat: lat,
		cpu: cpuTime{cpu1.host - cpu0.host, cpu1.children - cpu0.children, cpu1.db - cpu0.db, cpu1.busy - cpu0.busy}}
	if len(lat) > 0 {
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return r
}

type host struct {
	url   string
	srv   *server.Server
	m     *plugins.Manager
	st    *store.Store
	close func()
}

// startHost runs a host with the plugin manager and the in-process bench
// routes, also behind one round trip to echo each (-hop).
func startHost(dataDir, dsn, bundlePath string, echo *hopper) *host {
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(dataDir, "trust"), 0o750); err != nil {
		fatal(err)
	}
	if dataDir != filepath.Join(filepath.Dir(bundlePath), "data") {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(bundlePath), "data", "trust", "bench.pub"))
		_ = os.WriteFile(filepath.Join(dataDir, "trust", "bench.pub"), b, 0o644)
	}
	d, err := store.ParseDSN(dsn)
	if err != nil {
		fatal(err)
	}
	st, err := store.Open(ctx, d)
	if err != nil {
		fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		fatal(err)
	}
	cat, _ := i18n.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(server.Options{Catalog: cat, Logger: log})
	tok, _, _ := identity.LoadAdminToken(dataDir, "")
	pol, err := policy.New(ctx)
	if err != nil {
		fatal(err)
	}
	m := plugins.New(plugins.Options{DataDir: dataDir, Store: st, Audit: audit.New(st.Client, nil), Policy: pol, Log: log, HostVersion: "0.1.0"})
	m.Router().Mount(srv, identity.Middleware(identity.Guard{Policy: pol}, tok))
	trivial := func(c *gin.Context) { c.String(http.StatusOK, "1.0.0") }
	read := func(c *gin.Context) {
		var v string
		err := st.DB.QueryRowContext(c.Request.Context(), "SELECT value FROM settings WHERE scope = ? AND `key` = ?", "bench", "hello").Scan(&v)
		if err != nil && err != sql.ErrNoRows {
			server.Fail(c, err)
			return
		}
		c.String(http.StatusOK, v)
	}
	hop := func(c *gin.Context) {
		if err := echo.hop(); err != nil {
			server.Fail(c, err) // aborts: the handler after it does not run
		}
	}
	srv.API().GET("/v1/bench/trivial", trivial)
	srv.API().GET("/v1/bench/db", read)
	// (d): the same handlers, after one round trip to the echo server.
	srv.API().GET("/v1/bench/trivial-hop", hop, trivial)
	srv.API().GET("/v1/bench/db-hop", hop, read)
	_ = st.Client.Setting.Create().SetScope("bench").SetKey("hello").SetValue("world").Exec(ctx)
	if _, err := m.Install(ctx, bundlePath, plugins.Actor{Username: "bench"}); err != nil {
		fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = srv.Serve(sctx, ln); close(done) }()
	return &host{url: "http://" + ln.Addr().String(), srv: srv, m: m, st: st, close: func() {
		cancel()
		<-done
		m.Close()
		st.Close()
	}}
}

// startProxy starts this binary as a separate Unix-socket server and mounts a
// reverse proxy to it on the host.
func startProxy(h *host, work string) (string, func()) {
	sock := filepath.Join(work, "bench.sock")
	self, _ := os.Executable()
	cmd := exec.Command(self, "-serve-unix", sock)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	for range 100 {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	target, _ := url.Parse("http://unix")
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
		MaxIdleConnsPerHost: 256,
	}
	h.srv.API().GET("/v1/bench/proxy", gin.WrapH(rp))
	return h.url + "/api/v1/bench/proxy", func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
}

// hopper makes one 1-byte round trip to the echo server per call, over
// connections it keeps: one for each caller at a time, as a pool would.
type hopper struct {
	sock string
	idle chan net.Conn
}

func (h *hopper) hop() error {
	var c net.Conn
	select {
	case c = <-h.idle:
	default:
		var err error
		if c, err = net.Dial("unix", h.sock); err != nil {
			return err
		}
	}
	b := []byte{1}
	if _, err := c.Write(b); err != nil {
		c.Close()
		return err
	}
	if _, err := io.ReadFull(c, b); err != nil {
		c.Close()
		return err
	}
	select {
	case h.idle <- c:
	default:
		c.Close()
	}
	return nil
}

func (h *hopper) close() {
	for {
		select {
		case c := <-h.idle:
			c.Close()
		default:
			return
		}
	}
}

// pingFloor measures the cheapest possible cross-process round trip on this
// machine: one byte to an echo server in another process and back, one at
// a time.
func pingFloor(echo *hopper, n int) result {
	lat := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if err := echo.hop(); err != nil {
			fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	return result{n: n, p50: lat[n/2], p99: lat[n*99/100]}
}

func serveUnix(sock string) {
	ping, err := net.Listen("unix", sock+".ping")
	if err != nil {
		fatal(err)
	}
	go func() {
		for {
			c, err := ping.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c) }()
		}
	}()
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fatal(err)
	}
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("1.0.0")) }))
}

func dropMySQL(base, db string) {
	sdb, err := sql.Open("mysql", strings.TrimPrefix(base, "mysql://"))
	if err != nil {
		return
	}
	defer sdb.Close()
	_, _ = sdb.Exec("DROP DATABASE IF EXISTS `" + db + "`")
	_, _ = sdb.Exec("DROP DATABASE IF EXISTS `" + plugins.DatabaseName(db, "testplugin") + "`")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "pluginbench:", err)
	os.Exit(1)
}
