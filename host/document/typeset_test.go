package document

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/shanghai-amr/portal/host/seal"
)

func sampleValues(t *testing.T, tpl *Template) map[string]string {
	t.Helper()
	data := map[string]any{}
	for _, f := range tpl.Fields {
		switch {
		case f.Kind == "date":
			data[f.Key] = "2026-10-08"
		default:
			data[f.Key] = f.Label + "示例内容"
		}
	}
	if _, ok := data["facts"]; ok {
		data["facts"] = "当事人于2026年3月至2026年9月间，在其经营场所销售标注虚假生产日期的预包装食品“某某牌”饼干共计1,200盒，货值金额人民币36,000元，违法所得人民币4,800元。"
	}
	vals, problems := tpl.Fill(data)
	if problems != nil {
		t.Fatalf("%s: %+v", tpl.Type, problems)
	}
	return vals
}

func TestWrapKeepsPunctuationRules(t *testing.T) {
	r, err := newRenderer(Layout{Template: &Template{Title: "x"}, IssuedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("当事人销售标注虚假生产日期的食品，", 12) + "统一社会信用代码91310115MA1K4XXXXX。"
	lines := r.wrap(text, "body", bodyPt, textWidth, 2*bodyPt*ptToMM)
	if len(lines) < 3 {
		t.Fatalf("expected several lines, got %d", len(lines))
	}
	if got := strings.Join(lines, ""); got != text {
		t.Fatalf("wrapping lost text:\n%s\n%s", got, text)
	}
	for i, l := range lines {
		first, _ := firstRune(l)
		if i > 0 && strings.ContainsRune(noStart, first) {
			t.Errorf("line %d starts with %q", i+1, first)
		}
		if strings.Contains(l, "91310115") && !strings.Contains(l, "91310115MA1K4XXXXX") {
			t.Errorf("the credit code was split: %q", l)
		}
	}
}

func firstRune(s string) (rune, bool) {
	for _, c := range s {
		return c, true
	}
	return 0, false
}

// Every built-in document type renders to A4 PDF whose text, read back with
// poppler's pdftotext, holds the title, the number and the filled Chinese
// fields, and whose first page converts to PNG (issue 7).
func TestBuiltinTemplatesRenderReadableChinesePDF(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext (poppler-utils) is required: run scripts/ci-deps.sh")
	}
	tpls, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	if len(tpls) != 9 {
		t.Fatalf("want the nine document types, got %d", len(tpls))
	}
	dir := t.TempDir()
	for i := range tpls {
		tpl := &tpls[i]
		t.Run(tpl.Type, func(t *testing.T) {
			vals := sampleValues(t, tpl)
			number := ""
			if tpl.Numbering != "" {
				number = tpl.rule().Format(scopeOf("310115"), 2026, 12)
			}
			pdf, err := Render(Layout{Template: tpl, Values: vals, Number: number, OrgName: "上海市浦东新区市场监督管理局", IssuedAt: time.Date(2026, 10, 8, 2, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tpl.Type+".pdf")
			if err := os.WriteFile(path, pdf, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			text := strings.Join(strings.Fields(string(out)), "")
			want := []string{tpl.Title, "上海市浦东新区市场监督管理局", "2026年10月8日"}
			if number != "" {
				want = append(want, number)
			}
			if tpl.Type == "penalty_decision" {
				want = append(want, "违法所得人民币4,800元", "每日按罚款数额的百分之三加处罚款")
			}
			if tpl.Type == "hearing_arrangement" {
				want = append(want, "第六十四条", "申请回避")
			}
			if tpl.Type == "demand_notice" {
				want = append(want, "行政强制法》第三十五条", "十个工作日内履行")
			}
			if tpl.Type == "summary_penalty_decision" {
				// 行政处罚法 第五十一条 (the summary procedure), 第五十二条 (the
				// officers show their certificates; time and place).
				want = append(want, "第五十一条", "出示执法证件", "处罚地点")
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%q missing from the extracted text:\n%s", w, out)
				}
			}
			info, err := exec.Command("pdfinfo", path).Output()
			if err != nil || !strings.Contains(string(info), "(A4)") {
				t.Errorf("not A4: %s %v", info, err)
			}
			if _, err := exec.LookPath("pdftoppm"); err == nil {
				png := filepath.Join(dir, tpl.Type)
				if out, err := exec.Command("pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", path, png).CombinedOutput(); err != nil {
					t.Fatalf("pdftoppm: %v %s", err, out)
				}
			}
		})
	}
	if d := os.Getenv("PORTAL_KEEP_PDF"); d != "" {
		_ = exec.Command("cp", "-r", dir+"/.", d).Run()
	}
}

// BenchmarkIssuePipeline measures the CPU work of one document: typesetting
// the decision (two pages, CJK fonts), signing it (SM2, CMS, incremental
// update) and verifying it. docs/benchmarks.md records the figures.
func BenchmarkIssuePipeline(b *testing.B) {
	tpls, err := Builtins()
	if err != nil {
		b.Fatal(err)
	}
	var tpl *Template
	for i := range tpls {
		if tpls[i].Type == "penalty_decision" {
			tpl = &tpls[i]
		}
	}
	t := &testing.T{}
	vals := sampleValues(t, tpl)
	ks, err := seal.OpenKeystore(afero.NewMemMapFs(), "/k", seal.KeystoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	signer, err := ks.Signer(context.Background(), seal.Subject{Kind: seal.KindOrg, Code: "310115", Name: "浦东新区市场监督管理局"})
	if err != nil {
		b.Fatal(err)
	}
	img, err := seal.SealImage("浦东新区市场监督管理局", "行政处罚专用章", 496)
	if err != nil {
		b.Fatal(err)
	}
	var sealPNG bytes.Buffer
	_ = png.Encode(&sealPNG, img)
	layout := Layout{Template: tpl, Values: vals, Number: "沪市监浦罚〔2026〕1号", OrgName: "浦东新区市场监督管理局", Seal: sealPNG.Bytes(), IssuedAt: time.Now()}
	var pdf, signed []byte
	b.Run("render", func(b *testing.B) {
		for b.Loop() {
			if pdf, err = Render(layout); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			if signed, err = seal.SignPDF(pdf, signer, time.Now(), seal.SignInfo{Reason: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if rep, _ := seal.VerifyPDF(signed, ks.Roots()); !rep.Valid {
				b.Fatal(rep.Summary())
			}
		}
	})
}
