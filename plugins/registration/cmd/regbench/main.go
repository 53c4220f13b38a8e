// Command regbench measures the registry name-search index in process: it
// generates a synthetic population (default 3,000,000 entities), builds the
// index (time, heap), then runs a fixed, realistic query mix — trade-name
// fragments of 2–4 characters, full names, full-width variants, pinyin
// initials, with and without filters, public and district callers — in a
// closed loop for a bounded time at each client count, and reports p50,
// p95, p99 and QPS; then exact code lookups the same way; then a
// compaction (a full rebuild) under query load.
//
// Two load models, both in process: "direct" — the clients are goroutines
// calling the index (a client never blocks, so the Go scheduler time-slices
// them every 10 ms and a query caught by a slice boundary waits for the
// other clients' slices); "queued" — the clients hand queries to a pool of
// GOMAXPROCS server goroutines and wait for the answer, as requests wait for
// a server, so every latency includes its time in the queue.
//
//	go run ./plugins/registration/cmd/regbench -n 3000000 -duration 10s -clients 1,32
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shanghai-amr/portal/plugins/registration/registry"
	"github.com/shanghai-amr/portal/plugins/registration/search"
)

func main() {
	n := flag.Int("n", 3_000_000, "entities to generate")
	seed := flag.Int64("seed", 1, "generator seed")
	duration := flag.Duration("duration", 10*time.Second, "how long each load phase runs")
	clients := flag.String("clients", "1,32", "concurrent clients (closed loop), comma-separated")
	maxScan := flag.Int("maxscan", 0, "search.Options.MaxScan (0: default)")
	rebuild := flag.Bool("rebuild", true, "also compact (rebuild) the index under query load")
	rebuildClients := flag.Int("rebuild-clients", 4, "clients querying during the compaction")
	snapshot := flag.Bool("snapshot", true, "write a snapshot to a temporary file, report its size, load it back")
	flag.Parse()
	var cs []int
	for _, c := range strings.Split(*clients, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || v < 1 {
			fmt.Fprintf(os.Stderr, "bad -clients %q\n", *clients)
			os.Exit(2)
		}
		cs = append(cs, v)
	}

	fmt.Printf("regbench: %d entities, GOMAXPROCS %d, %s, %s\n", *n, runtime.GOMAXPROCS(0), runtime.Version(), cpuModel())
	base := heap()
	// The population is all live data: collecting it while it grows is
	// wasted work. Normal collection resumes before the load phases.
	debug.SetGCPercent(400)

	t0 := time.Now()
	ents := make([]*registry.Entity, 0, *n)
	if err := registry.Generate(*seed, *n, func(e *registry.Entity) error { ents = append(ents, e); return nil }); err != nil {
		fatal(err)
	}
	genTook := time.Since(t0)
	afterGen := heap()
	fmt.Printf("generate: %v (%.0f entities/s), entities on the heap %s (%.0f B/entity)\n",
		genTook.Round(time.Millisecond), float64(*n)/genTook.Seconds(), mb(afterGen-base), float64(afterGen-base)/float64(*n))
	mix(ents)

	t0 = time.Now()
	ix, bad, err := search.Build(ents, search.Options{MaxScan: *maxScan})
	if err != nil {
		fatal(err)
	}
	buildTook := time.Since(t0)
	afterBuild := heap()
	st := ix.Stats()
	fmt.Printf("build: %v (%.0f entities/s, %d workers), %d skipped\n", buildTook.Round(time.Millisecond),
		float64(*n)/buildTook.Seconds(), runtime.GOMAXPROCS(0), bad)
	fmt.Printf("index: heap delta %s (%.0f B/entity); structures %s: %d docs, %d terms, %d postings (%s), records %s\n",
		mb(afterBuild-afterGen), float64(afterBuild-afterGen)/float64(*n), mb(st.Bytes), st.Docs, st.Terms, st.Postings,
		mb(int64(st.Postings)*4), mb(int64(st.RecordBytes)))

	qs := querySet(ents, *seed)
	codes := make([]string, 0, 100_000)
	r := rand.New(rand.NewPCG(uint64(*seed), 99))
	for range 100_000 {
		codes = append(codes, ents[r.IntN(len(ents))].Code)
	}
	// The index keeps no reference to the entities; drop them, as the
	// portal does (the records live in the database).
	ents = nil
	debug.SetGCPercent(100)
	afterDrop := heap()
	fmt.Printf("heap with the index only (entities dropped): %s\n", mb(afterDrop-base))
	if *snapshot {
		snap(ix)
	}
	fmt.Printf("query set: %d queries (%s)\n", len(qs), kinds(qs))

	search1 := func(w, i int) string {
		q := qs[(w*7919+i)%len(qs)]
		if _, err := ix.Search(q.caller, q.q); err != nil {
			fatal(err)
		}
		return q.kind
	}
	lookup := func(w, i int) string {
		code := codes[(w*7919+i)%len(codes)]
		if _, ok := ix.Lookup(search.Caller{Audience: search.Public, Scope: search.CityScope()}, code); !ok {
			fatal(fmt.Errorf("code %s not found", code))
		}
		return "code"
	}
	for _, c := range cs {
		load(c, *duration, false, search1).print(fmt.Sprintf("name search, %d client(s), direct", c))
		if c > runtime.GOMAXPROCS(0) {
			load(c, *duration, true, search1).print(fmt.Sprintf("name search, %d client(s), queued", c))
		}
	}
	for _, c := range cs {
		load(c, *duration, false, lookup).print(fmt.Sprintf("code lookup, %d client(s), direct", c))
		if c > runtime.GOMAXPROCS(0) {
			load(c, *duration, true, lookup).print(fmt.Sprintf("code lookup, %d client(s), queued", c))
		}
	}
	if *rebuild {
		c := *rebuildClients
		var took time.Duration
		res := loadWhile(c, func() {
			t := time.Now()
			if err := ix.Compact(context.Background()); err != nil {
				fatal(err)
			}
			took = time.Since(t)
		}, search1)
		st := ix.Stats()
		fmt.Printf("compaction (full rebuild from the index's own records, swapped in atomically) under %d clients: %v, generation %d, %d docs\n",
			c, took.Round(time.Millisecond), st.Generation, st.Docs)
		res.print(fmt.Sprintf("name search during the rebuild, %d client(s), direct", c))
	}
}

// snap writes the index to a temporary file and loads it back.
func snap(ix *search.Index) {
	f, err := os.CreateTemp("", "regbench-*.idx")
	if err != nil {
		fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	t := time.Now()
	n, err := ix.WriteTo(f)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		fatal(err)
	}
	wrote := time.Since(t)
	if _, err := f.Seek(0, 0); err != nil {
		fatal(err)
	}
	t = time.Now()
	loaded, err := search.Load(f, search.Options{})
	if err != nil {
		fatal(err)
	}
	fmt.Printf("snapshot: %s on disk (%.0f B/entity), written in %v, loaded in %v (%d docs)\n", mb(n),
		float64(n)/float64(loaded.Len()), wrote.Round(time.Millisecond), time.Since(t).Round(time.Millisecond), loaded.Len())
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "regbench:", err)
	os.Exit(1)
}

func heap() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func mb(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func mix(ents []*registry.Entity) {
	var ind, live, formers int
	for _, e := range ents {
		if e.Kind == registry.KindIndividual {
			ind++
		}
		if e.Status.InBusiness() {
			live++
		}
		if len(e.FormerNames) > 0 {
			formers++
		}
	}
	n := float64(len(ents))
	fmt.Printf("population: %.1f%% companies and other enterprises, %.1f%% individual businesses; %.1f%% 存续/在业; %.1f%% with former names\n",
		100*(n-float64(ind))/n, 100*float64(ind)/n, 100*float64(live)/n, 100*float64(formers)/n)
}

type query struct {
	kind   string
	caller search.Caller
	q      search.Query
}

var (
	public = search.Caller{Audience: search.Public, Scope: search.CityScope()}
	city   = search.Caller{Audience: search.Staff, Scope: search.CityScope()}
)

func districtStaff(d registry.District) search.Caller {
	return search.Caller{Audience: search.Staff, Scope: search.DistrictScope(d)}
}

// tradeName guesses the trade name (字号) of a generated name: what follows
// the region, two to four characters.
func tradeName(name string) []rune {
	s := name
	for _, p := range []string{"上海市", "上海"} {
		if t, ok := strings.CutPrefix(s, p); ok {
			s = t
			break
		}
	}
	for _, d := range registry.Districts {
		if t, ok := strings.CutPrefix(s, d.Name()); ok {
			s = t
			for _, town := range registry.Towns(d) {
				if t, ok := strings.CutPrefix(s, town); ok {
					s = t
					break
				}
			}
			break
		}
		if t, ok := strings.CutPrefix(s, d.Short()); ok {
			s = t
			break
		}
	}
	return []rune(s)
}

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(':
			b.WriteRune('（')
		case r == ')':
			b.WriteRune('）')
		case r > ' ' && r < 0x7F:
			b.WriteRune(r + 0xFEE0)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// querySet makes the fixed query mix from a sample of the population.
func querySet(ents []*registry.Entity, seed int64) []query {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	var qs []query
	add := func(kind string, c search.Caller, q search.Query) { qs = append(qs, query{kind, c, q}) }
	for range 400 {
		e := ents[r.IntN(len(ents))]
		t := tradeName(e.Name)
		if len(t) < 4 {
			continue
		}
		c := public
		if r.IntN(2) == 0 {
			c = districtStaff(e.District)
		}
		add("trade-2", c, search.Query{Text: string(t[:2])})
		add("trade-3", c, search.Query{Text: string(t[:3])})
		add("trade-4", c, search.Query{Text: string(t[:4])})
		add("full-name", c, search.Query{Text: e.Name})
		if strings.ContainsAny(e.Name, "（）") {
			add("half-width", c, search.Query{Text: strings.NewReplacer("（", "(", "）", ")").Replace(e.Name)})
		} else {
			add("full-width", c, search.Query{Text: fullWidth(string(t[:2])) + "（上海）"})
		}
		ini := search.Initials(string(t))
		if len(ini) >= 4 {
			add("initials", c, search.Query{Text: ini[:4]})
		}
		if len(e.FormerNames) > 0 {
			add("former-name", c, search.Query{Text: string(tradeName(e.FormerNames[0])[:min(3, len(tradeName(e.FormerNames[0])))])})
		}
		// Staff with filters.
		ds := districtStaff(e.District)
		add("filtered", ds, search.Query{Text: string(t[:2]), Statuses: []registry.Status{registry.StatusActive, registry.StatusOperating}})
		add("filtered", city, search.Query{Text: string(t[:2]), EstablishedFrom: registry.Date(2015, 1, 1), EstablishedTo: registry.Date(2026, 12, 31)})
		add("filtered", ds, search.Query{Text: string(t[:2]), CapitalMin: 100_000_00, CapitalMax: 10_000_000_00})
	}
	// Broad fragments (industry words, forms): many candidates, capped.
	for _, w := range []string{"科技", "信息科技", "贸易", "小吃店", "便利店", "有限公司", "上海", "咨询", "合伙企业", "专业合作社"} {
		add("broad", public, search.Query{Text: w})
		add("broad", districtStaff(registry.Districts[r.IntN(16)]), search.Query{Text: w, Statuses: []registry.Status{registry.StatusRevoked}})
	}
	// A district officer's listing: no text, filters only.
	for _, d := range registry.Districts {
		add("list", districtStaff(d), search.Query{Statuses: []registry.Status{registry.StatusSuspended}, EstablishedFrom: registry.Date(2020, 1, 1)})
	}
	r.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
	return qs
}

func kinds(qs []query) string {
	m := map[string]int{}
	for _, q := range qs {
		m[q.kind]++
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

type result struct {
	clients int
	elapsed time.Duration
	lat     []time.Duration
	byKind  map[string][]time.Duration
}

// load runs c closed-loop clients for d; fn does one operation and names
// its kind. queued: through a pool of GOMAXPROCS server goroutines.
func load(c int, d time.Duration, queued bool, fn func(w, i int) string) result {
	var stop atomic.Bool
	time.AfterFunc(d, func() { stop.Store(true) })
	if !queued {
		return run(c, &stop, fn)
	}
	type req struct {
		w, i int
		done chan string
	}
	reqs := make(chan req)
	var servers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		servers.Add(1)
		go func() {
			defer servers.Done()
			for r := range reqs {
				r.done <- fn(r.w, r.i)
			}
		}()
	}
	dones := make([]chan string, c)
	for w := range dones {
		dones[w] = make(chan string, 1)
	}
	res := run(c, &stop, func(w, i int) string {
		reqs <- req{w, i, dones[w]}
		return <-dones[w]
	})
	close(reqs)
	servers.Wait()
	return res
}

// loadWhile runs c direct clients while work runs.
func loadWhile(c int, work func(), fn func(w, i int) string) result {
	var stop atomic.Bool
	go func() {
		time.Sleep(200 * time.Millisecond)
		work()
		stop.Store(true)
	}()
	return run(c, &stop, fn)
}

func run(c int, stop *atomic.Bool, fn func(w, i int) string) result {
	type sample struct {
		d    time.Duration
		kind string
	}
	per := make([][]sample, c)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				t := time.Now()
				k := fn(w, i)
				per[w] = append(per[w], sample{time.Since(t), k})
			}
		}()
	}
	wg.Wait()
	res := result{clients: c, elapsed: time.Since(start), byKind: map[string][]time.Duration{}}
	for _, ss := range per {
		for _, s := range ss {
			res.lat = append(res.lat, s.d)
			res.byKind[s.kind] = append(res.byKind[s.kind], s.d)
		}
	}
	return res
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(100 * time.Nanosecond)
	}
}

func (r result) print(title string) {
	slices.Sort(r.lat)
	var sum time.Duration
	for _, d := range r.lat {
		sum += d
	}
	fmt.Printf("%s: %d ops in %v, %.0f ops/s, mean %v, p50 %v, p95 %v, p99 %v, max %v\n", title, len(r.lat),
		r.elapsed.Round(time.Millisecond), float64(len(r.lat))/r.elapsed.Seconds(), round(sum/time.Duration(len(r.lat))),
		round(pct(r.lat, 0.50)), round(pct(r.lat, 0.95)), round(pct(r.lat, 0.99)), round(r.lat[len(r.lat)-1]))
	if len(r.byKind) < 2 {
		return
	}
	var ks []string
	for k := range r.byKind {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		ds := r.byKind[k]
		slices.Sort(ds)
		fmt.Printf("    %-12s %8d ops, p50 %v, p95 %v, p99 %v\n", k, len(ds), round(pct(ds, 0.50)), round(pct(ds, 0.95)), round(pct(ds, 0.99)))
	}
}
