package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quotad/quotad"
	"github.com/quotad/quotad/notify"
)

// notifyCollector exports notification delivery from the store's outbox:
// quotad_notifications_total{notifier,state} for sent and dead, and
// quotad_notifications_pending{notifier}.
type notifyCollector struct {
	store quotad.Reader
	total *prometheus.Desc
	pend  *prometheus.Desc
}

// newNotifyCollector returns the notification metrics of the daemon, or
// nil when it has no notifiers.
func newNotifyCollector(d *daemon) prometheus.Collector {
	if len(d.cfg.Notifiers) == 0 {
		return nil
	}
	return &notifyCollector{
		store: d.engine,
		total: prometheus.NewDesc("quotad_notifications_total", "Notifications delivered (sent) or given up (dead), by notifier.", []string{"notifier", "state"}, nil),
		pend:  prometheus.NewDesc("quotad_notifications_pending", "Notifications waiting to be delivered, by notifier.", []string{"notifier"}, nil),
	}
}

func (c *notifyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.total; ch <- c.pend }

func (c *notifyCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := notify.Stats(ctx, c.store)
	if err != nil {
		return
	}
	for _, s := range stats {
		switch s.State {
		case quotad.NotifySent, quotad.NotifyDead:
			ch <- prometheus.MustNewConstMetric(c.total, prometheus.CounterValue, float64(s.Count), s.Notifier, s.State)
		case quotad.NotifyPending:
			ch <- prometheus.MustNewConstMetric(c.pend, prometheus.GaugeValue, float64(s.Count), s.Notifier)
		}
	}
}
