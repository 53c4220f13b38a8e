package dossier

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Item is one stored catalogue entry, as Catalogue returns it and chain.json
// holds it.
type Item struct {
	Seq       int            `json:"seq"`
	Kind      string         `json:"kind"`
	DocType   string         `json:"doc_type,omitempty"`
	Title     string         `json:"title"`
	FileID    int            `json:"file_id"`
	SM3       string         `json:"sm3"`
	Format    string         `json:"format"`
	Version   int            `json:"version"`
	ParentSeq int            `json:"parent_seq,omitempty"`
	Meta      map[string]any `json:"meta,omitempty"`
	CreatedBy int            `json:"created_by,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	Prev      string         `json:"prev"`
	Hash      string         `json:"hash"`
}

// hashed is what an entry's hash covers, in its canonical form. CreatedAt is
// not covered: timestamps round-trip through the databases with different
// precision, and the order of entries is already fixed by seq and the chain.
type hashed struct {
	Seq       int            `json:"seq"`
	Kind      string         `json:"kind"`
	DocType   string         `json:"doc_type"`
	Title     string         `json:"title"`
	FileID    int            `json:"file_id"`
	SM3       string         `json:"sm3"`
	Format    string         `json:"format"`
	Version   int            `json:"version"`
	ParentSeq int            `json:"parent_seq"`
	Meta      map[string]any `json:"meta"`
	CreatedBy int            `json:"created_by"`
}

// ComputeHash returns the hash the entry must carry given prev: hex(SM3(prev
// ‖ canonical JSON of the entry's fields)).
func (it *Item) ComputeHash(prev string) (string, error) {
	meta := it.Meta
	if len(meta) == 0 {
		meta = nil
	}
	body, err := canonicalJSON(hashed{Seq: it.Seq, Kind: it.Kind, DocType: it.DocType, Title: it.Title, FileID: it.FileID,
		SM3: it.SM3, Format: it.Format, Version: it.Version, ParentSeq: it.ParentSeq, Meta: meta, CreatedBy: it.CreatedBy})
	if err != nil {
		return "", fmt.Errorf("dossier: entry %d: %w", it.Seq, err)
	}
	d := sm3.New()
	d.Write([]byte(prev))
	d.Write(body)
	return hex.EncodeToString(d.Sum(nil)), nil
}

// ChainError says where a catalogue's hash chain breaks.
type ChainError struct {
	Seq    int // the first entry that does not verify (or is missing)
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("dossier: hash chain broken at entry %d: %s", e.Seq, e.Reason)
}

// VerifyChain checks that the entries are numbered 1, 2, … in order, that
// each links to the hash of the one before it ("" for the first) and that
// each hash matches the entry's content. It returns a *ChainError naming the
// first entry that fails, or nil.
func VerifyChain(items []Item) error {
	prev := ""
	for i := range items {
		it := &items[i]
		if it.Seq != i+1 {
			return &ChainError{Seq: i + 1, Reason: fmt.Sprintf("entry %d is missing (found seq %d in its place)", i+1, it.Seq)}
		}
		if it.Prev != prev {
			return &ChainError{Seq: it.Seq, Reason: fmt.Sprintf("prev does not match the hash of entry %d", it.Seq-1)}
		}
		want, err := it.ComputeHash(prev)
		if err != nil {
			return &ChainError{Seq: it.Seq, Reason: err.Error()}
		}
		if it.Hash != want {
			return &ChainError{Seq: it.Seq, Reason: "hash does not match the entry's content"}
		}
		prev = it.Hash
	}
	return nil
}

// Head returns the hash of the last entry ("" for none).
func Head(items []Item) string {
	if len(items) == 0 {
		return ""
	}
	return items[len(items)-1].Hash
}

// canonicalJSON encodes v with object keys sorted at every level, no
// insignificant white space, no HTML escaping and numbers kept exactly as
// they are written, so that the same value always gives the same bytes,
// before and after a round trip through the database.
func canonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	generic, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil { // maps encode with sorted keys
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeJSON decodes one JSON value keeping numbers as json.Number and
// refusing trailing data.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if err := dec.Decode(new(any)); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

// decodeMeta reads a stored meta column.
func decodeMeta(s string) (map[string]any, error) {
	if s == "" {
		return nil, nil
	}
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		return nil, fmt.Errorf("meta is not a JSON object")
	}
	return m, nil
}
