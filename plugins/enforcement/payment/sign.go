package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// The signature travels in these headers (never in Authorization, which the
// portal host does not forward to plugins).
const (
	HeaderAppID     = "X-Pay-App-Id"
	HeaderKeyID     = "X-Pay-Key-Id"
	HeaderTimestamp = "X-Pay-Timestamp" // Unix seconds
	HeaderNonce     = "X-Pay-Nonce"
	HeaderSignType  = "X-Pay-Sign-Type"
	HeaderSignature = "X-Pay-Signature" // lower-case hex
)

// SignType is the only signature algorithm: HMAC with SM3 (GB/T 32905).
const SignType = "HMAC-SM3"

// MaxAge is how old (or how far ahead) a signed message's timestamp may be.
const MaxAge = 10 * time.Minute

// Targets bind a signature to what it signs, so a notification cannot be
// replayed as a request or an answer.
const targetNotify = "NOTIFY"

func targetRequest(method, path string) string  { return "REQUEST " + method + " " + path }
func targetResponse(method, path string) string { return "RESPONSE " + method + " " + path }

// maxMessage bounds a signed JSON message (bill files have their own limit).
const maxMessage = 64 << 10

// canonical is the signed string:
//
//	HMAC-SM3\n<app id>\n<key id>\n<unix seconds>\n<nonce>\n<target>\n<hex SM3 of the body>
func canonical(appID, keyID string, ts int64, nonce, target string, body []byte) []byte {
	sum := sm3.Sum(body)
	var b bytes.Buffer
	for _, s := range []string{SignType, appID, keyID, strconv.FormatInt(ts, 10), nonce, target} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.Bytes()
}

func mac(key Key, msg []byte) []byte {
	m := hmac.New(sm3.New, key.Secret)
	m.Write(msg)
	return m.Sum(nil)
}

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sign sets the signature headers of a message.
func sign(h http.Header, appID string, key Key, target string, now time.Time, body []byte) {
	ts, nonce := now.Unix(), newNonce()
	h.Set(HeaderAppID, appID)
	h.Set(HeaderKeyID, key.ID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSignType, SignType)
	h.Set(HeaderSignature, hex.EncodeToString(mac(key, canonical(appID, key.ID, ts, nonce, target, body))))
}

// verify checks a message's signature headers against keys: ErrMalformed
// when they are missing or unreadable, ErrBadSignature when the app, key or
// signature does not match, ErrStale when the timestamp is more than maxAge
// from now (checked after the signature, so a forgery is reported as one).
// It answers the key id and the signed time.
func verify(ctx context.Context, h http.Header, appID string, keys KeyProvider, target string, body []byte, now time.Time, maxAge time.Duration) (string, time.Time, error) {
	gotApp, keyID, tsText, nonce, sig := h.Get(HeaderAppID), h.Get(HeaderKeyID), h.Get(HeaderTimestamp), h.Get(HeaderNonce), h.Get(HeaderSignature)
	if gotApp == "" || keyID == "" || tsText == "" || nonce == "" || sig == "" {
		return "", time.Time{}, fmt.Errorf("%w: signature headers missing", ErrMalformed)
	}
	if t := h.Get(HeaderSignType); t != SignType {
		return "", time.Time{}, fmt.Errorf("%w: sign type %q, want %s", ErrMalformed, t, SignType)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || len(nonce) > 64 {
		return "", time.Time{}, fmt.Errorf("%w: bad timestamp or nonce", ErrMalformed)
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: signature is not hex", ErrMalformed)
	}
	if gotApp != appID {
		return "", time.Time{}, fmt.Errorf("%w: app id %q is not ours", ErrBadSignature, gotApp)
	}
	candidates, err := keys.VerificationKeys(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("payment: verification keys: %w", err)
	}
	ok := false
	for _, k := range candidates {
		if k.ID == keyID && len(k.Secret) > 0 {
			ok = hmac.Equal(mac(k, canonical(gotApp, keyID, ts, nonce, target, body)), want)
			break
		}
	}
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: key %q", ErrBadSignature, keyID)
	}
	signed := time.Unix(ts, 0)
	if d := now.Sub(signed); d > maxAge || d < -maxAge {
		return "", time.Time{}, fmt.Errorf("%w: signed at %s, now %s", ErrStale, signed.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return keyID, signed, nil
}

// NewNotificationRequest builds the platform's signed POST of n to url, as
// the Sandbox sends it; plugin tests can use it to post notifications
// without a sandbox.
func NewNotificationRequest(ctx context.Context, url, appID string, key Key, now time.Time, n *Notification) (*http.Request, error) {
	body, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sign(req.Header, appID, key, targetNotify, now, body)
	return req, nil
}

// parseNotification is Gateway.ParseNotification for a given app and keys.
func parseNotification(r *http.Request, appID string, keys KeyProvider, now time.Time, maxAge time.Duration) (*Notification, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s", ErrMalformed, r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxMessage+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %v", ErrMalformed, err)
	}
	if len(body) > maxMessage {
		return nil, fmt.Errorf("%w: body over %d bytes", ErrMalformed, maxMessage)
	}
	keyID, sentAt, err := verify(r.Context(), r.Header, appID, keys, targetNotify, body, now, maxAge)
	if err != nil {
		return nil, err
	}
	var n Notification
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&n); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if err := n.validate(); err != nil {
		return nil, err
	}
	n.SentAt, n.KeyID = sentAt, keyID
	return &n, nil
}

// isSignatureError reports the errors that mean "refuse the message".
func isSignatureError(err error) bool {
	return errors.Is(err, ErrBadSignature) || errors.Is(err, ErrStale) || errors.Is(err, ErrMalformed)
}
