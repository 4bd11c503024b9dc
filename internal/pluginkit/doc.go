// Package pluginkit holds the small concurrency pieces every ledger plugin
// needs: a Gate that admits calls while the plugin is connected and lets
// Disconnect wait for the calls in progress, and an Emitter that delivers
// ledger events to subscribers without locking on the hot path.
package pluginkit
