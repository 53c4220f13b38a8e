package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shanghai-amr/portal/sdk"
	"github.com/shanghai-amr/portal/sdk/proto/pluginv1"
)

// track is a statutory clock as the host's Clocks service evaluates it: the
// event that starts it, the limit, pauses (excluded time, R-DL-3) and
// approved extensions (R-DL-2, R-DL-4).
type track struct {
	Event      time.Time   `json:"event"`
	Limit      limit       `json:"limit"`
	Pauses     []pause     `json:"pauses,omitempty"`
	Extensions []extension `json:"extensions,omitempty"`
}

type limit struct {
	Unit      string `json:"unit"`
	Amount    int    `json:"amount"`
	StartRule string `json:"start_rule"`
}

type pause struct {
	From   time.Time  `json:"from"`
	To     *time.Time `json:"to,omitempty"`
	Reason string     `json:"reason,omitempty"`
}

type extension struct {
	Amount   int       `json:"amount"`
	Approved time.Time `json:"approved"`
	Reason   string    `json:"reason,omitempty"`
	Ref      string    `json:"ref,omitempty"`
}

// leadClock: "自发现线索或者收到材料之日起十五个工作日内予以核查" (R-DL-2).
func leadClock(received time.Time) track {
	return track{Event: received, Limit: limit{Unit: "working_days", Amount: 15, StartRule: "next_day"}}
}

// caseClock: "案件办理时限：90个自然日，可延期，可暂停恢复" (R-DL-1).
func caseClock(filed time.Time) track {
	return track{Event: filed, Limit: limit{Unit: "natural_days", Amount: 90, StartRule: "next_day"}}
}

var (
	errPaused    = errors.New("the clock is already paused")
	errNotPaused = errors.New("the clock is not paused")
)

// change applies a pause, resume or extension.
func (t *track) change(op string, at time.Time, amount int, reason string) error {
	n := len(t.Pauses)
	paused := n > 0 && t.Pauses[n-1].To == nil
	switch op {
	case "pause":
		if paused {
			return errPaused
		}
		t.Pauses = append(t.Pauses, pause{From: at, Reason: reason})
	case "resume":
		if !paused {
			return errNotPaused
		}
		t.Pauses[n-1].To = &at
	case "extend":
		if amount <= 0 || amount > 90 {
			return errors.New("amount: 1–90")
		}
		t.Extensions = append(t.Extensions, extension{Amount: amount, Approved: at, Reason: reason})
	default:
		return errors.New("unknown clock operation")
	}
	return nil
}

// clockView is a clock as the API shows it.
type clockView struct {
	Due         time.Time `json:"due"`
	Colour      string    `json:"colour"`
	Paused      bool      `json:"paused"`
	Explanation string    `json:"explanation"`
	Track       track     `json:"track"`
}

// evaluate asks the host (its holiday calendar is the authority).
func evaluate(ctx context.Context, host *sdk.Host, t track) (clockView, error) {
	b, _ := json.Marshal(t)
	st, err := host.Clocks.EvaluateTrack(ctx, &pluginv1.EvaluateTrackRequest{Track: b})
	if err != nil {
		return clockView{}, err
	}
	return clockView{Due: fromMS(st.DueUnixMs), Colour: st.Colour, Paused: st.Paused, Explanation: st.Explanation, Track: t}, nil
}

// statusOf extracts the message of a host's refusal (InvalidArgument,
// FailedPrecondition, NotFound, PermissionDenied), which the caller can act on.
func statusOf(err error) (string, bool) {
	s, ok := status.FromError(err)
	if !ok {
		return "", false
	}
	switch s.Code() {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.PermissionDenied:
		return s.Message(), true
	}
	return "", false
}

// unschedulable reports the host's refusal to count over a year whose holiday
// schedule is not entered (FailedPrecondition), with its reason.
func unschedulable(err error) (string, bool) {
	if s, ok := status.FromError(err); ok && err != nil && s.Code() == codes.FailedPrecondition {
		return s.Message(), true
	}
	return "", false
}
