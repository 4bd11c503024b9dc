package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

// metrics are the connector's Prometheus metrics, on a registry the Main
// owns. Every label is bounded: ledger is a configured prefix, direction
// and event come from fixed sets, code is an ILP error code of the form
// letter-digit-digit (anything else counts as "other"), type is a quote type.
type metrics struct {
	reg       *prometheus.Registry
	transfers *prometheus.CounterVec   // ledger, direction, event
	amounts   *prometheus.CounterVec   // ledger, direction (fulfilled base units)
	rejects   *prometheus.CounterVec   // ledger, direction, code
	quotes    *prometheus.HistogramVec // ledger, type, result
	connected *prometheus.GaugeVec     // ledger
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ilp_connector_transfers_total",
			Help: "Transfer events seen by the connector, by ledger, direction (incoming, outgoing) and event (prepare, fulfill, reject, cancel).",
		}, []string{"ledger", "direction", "event"}),
		amounts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ilp_connector_fulfilled_amount_total",
			Help: "Sum of the amounts of fulfilled transfers, in the ledger's base units.",
		}, []string{"ledger", "direction"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ilp_connector_rejections_total",
			Help: "Rejected and expired transfers by ILP error code.",
		}, []string{"ledger", "direction", "code"}),
		quotes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ilp_connector_quote_duration_seconds",
			Help:    "Time to answer an ILQP quote request, by ledger, type (liquidity, source, destination) and result (ok, error).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"ledger", "type", "result"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ilp_connector_plugin_connected",
			Help: "1 when the ledger's plugin is connected.",
		}, []string{"ledger"}),
	}
	m.reg.MustRegister(m.transfers, m.amounts, m.rejects, m.quotes, m.connected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// boundedCode keeps the code label to the shape of ILP error codes.
func boundedCode(c string) string {
	if len(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= '0' && c[1] <= '9' && c[2] >= '0' && c[2] <= '9' {
		return c
	}
	return "other"
}

// watch counts the events of the connector's plugin on ledger prefix.
func (m *metrics) watch(prefix string, p connector.Plugin) func() {
	m.connected.WithLabelValues(prefix).Set(0)
	return p.Subscribe(func(ev ledger.Event) {
		var dir, kind string
		switch ev.Kind {
		case ledger.EventIncomingPrepare:
			dir, kind = "incoming", "prepare"
		case ledger.EventIncomingFulfill:
			dir, kind = "incoming", "fulfill"
		case ledger.EventIncomingReject:
			dir, kind = "incoming", "reject"
		case ledger.EventIncomingCancel:
			dir, kind = "incoming", "cancel"
		case ledger.EventOutgoingPrepare:
			dir, kind = "outgoing", "prepare"
		case ledger.EventOutgoingFulfill:
			dir, kind = "outgoing", "fulfill"
		case ledger.EventOutgoingReject:
			dir, kind = "outgoing", "reject"
		case ledger.EventOutgoingCancel:
			dir, kind = "outgoing", "cancel"
		case ledger.EventConnect:
			m.connected.WithLabelValues(prefix).Set(1)
			return
		case ledger.EventDisconnect:
			m.connected.WithLabelValues(prefix).Set(0)
			return
		default:
			return
		}
		m.transfers.WithLabelValues(prefix, dir, kind).Inc()
		switch kind {
		case "fulfill":
			m.amounts.WithLabelValues(prefix, dir).Add(float64(ev.Transfer.Amount))
		case "reject", "cancel":
			m.rejects.WithLabelValues(prefix, dir, boundedCode(ev.Rejection.Code)).Inc()
		}
	})
}

// meteredPlugin is a plugin whose request handler is timed: the connector
// registers its handler through it.
type meteredPlugin struct {
	connector.Plugin
	prefix string
	m      *metrics
}

func (p meteredPlugin) RegisterRequestHandler(h ledger.RequestHandler) error {
	return p.Plugin.RegisterRequestHandler(func(ctx context.Context, req ledger.Message) (ledger.Message, error) {
		typ := quoteType(req.ILP)
		if typ == "" {
			return h(ctx, req)
		}
		start := time.Now()
		resp, err := h(ctx, req)
		result := "ok"
		if err != nil || quoteType(resp.ILP) == "error" {
			result = "error"
		}
		p.m.quotes.WithLabelValues(p.prefix, typ, result).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

// quoteType names the ILQP type of a packet in base64 from its type byte
// (the first byte of the envelope), or "" when it is not a quote.
func quoteType(s string) string {
	if s == "" {
		return ""
	}
	// Four base64 characters hold the first three bytes.
	n := min(len(s), 4)
	b, err := ilp.DecodeBase64(s[:n])
	if err != nil || len(b) == 0 {
		return ""
	}
	switch ilp.Type(b[0]) {
	case ilp.TypeQuoteLiquidityRequest:
		return "liquidity"
	case ilp.TypeQuoteBySourceRequest:
		return "source"
	case ilp.TypeQuoteByDestinationRequest:
		return "destination"
	case ilp.TypeError:
		return "error"
	}
	return ""
}
