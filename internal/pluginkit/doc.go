// Package pluginkit holds what every ledger plugin of the module needs and
// would otherwise write again: a Gate that admits calls while the plugin is
// connected and lets Disconnect wait for the calls in progress; an Emitter
// that delivers ledger events to subscribers without locking on the hot
// path; Expiries, the expiry scheduler on an injected clock; CallHandler,
// which delivers a request to a registered handler; the transfer and
// fulfillment checks of the Ledger Plugin Interface; and NewID for the ids
// a caller leaves empty.
package pluginkit
