package connector

import (
	"encoding/json"
	"fmt"
)

// SetSettlementMethods replaces the JSON array answered to a peer's
// settlement_methods_request (Config.SettlementMethods), for a kit whose
// admin edits its settlement methods while it runs. nil answers []; a
// value that is not a JSON array is refused and changes nothing.
func (c *Connector) SetSettlementMethods(methods json.RawMessage) error {
	if methods == nil {
		methods = json.RawMessage("[]")
	} else {
		var v []json.RawMessage
		if err := json.Unmarshal(methods, &v); err != nil || v == nil {
			return fmt.Errorf("%w: settlement methods must be a JSON array", ErrConfig)
		}
		methods = append(json.RawMessage(nil), methods...)
	}
	c.smu.Lock()
	c.cfg.SettlementMethods = methods
	c.smu.Unlock()
	return nil
}

// settlementMethods is the JSON array answered to a settlement_methods_request.
func (c *Connector) settlementMethods() json.RawMessage {
	c.smu.RLock()
	defer c.smu.RUnlock()
	return c.cfg.SettlementMethods
}
