package pair

import (
	"time"

	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
)

// expiries schedules the expiry of one end's prepared outgoing transfers:
// pluginkit.Expiries under the names the rest of the package uses.
type expiries struct{ x *pluginkit.Expiries }

func newExpiries(clock ledger.Clock, fire func(id string)) *expiries {
	return &expiries{x: pluginkit.NewExpiries(clock, fire)}
}

func (e *expiries) start()                      { e.x.Start() }
func (e *expiries) stop()                       { e.x.Stop() }
func (e *expiries) add(id string, at time.Time) { e.x.Add(id, at) }
func (e *expiries) remove(id string)            { e.x.Remove(id) }
func (e *expiries) pending() int                { return e.x.Pending() }
