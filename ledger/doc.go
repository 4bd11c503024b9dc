// Package ledger owns the contracts that ILP Kit's plugins, backends, the
// connector and the kit share: the Ledger Plugin Interface v1 (PROTOCOLS.md
// section 5) — the Plugin interface, its Transfer, Message, Rejection,
// LedgerInfo and events, and its errors with their 2017 names and JSON —
// and the PluginBackend of the ILP Kit 3.0 design (a Backend gives a plugin
// its Balances and its TransferLog) with the errors both report.
//
// Money rules every backend keeps: a balance change that would leave a
// balance outside its limits, or overflow, is refused and changes nothing; a
// transfer resolves at most once; a transfer's state change and the balance
// changes it causes are recorded in one atomic step.
//
// ledger/ledgertest is the conformance suite of backends, ledger/plugintest
// that of plugins.
package ledger
