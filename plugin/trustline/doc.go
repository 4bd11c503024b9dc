// Package trustline owns the asymmetric trustlines of a kit: the ILP Kit
// Server plugin, which keeps every user account of a kit as a trustline
// with its balance, limits and transfers in a ledger.Backend, and the ILP
// Kit Client plugin, a stateless ledger.Plugin that reaches one account of
// a Server over HTTP and WebSocket.
//
// # Server
//
// A Server is one ledger with prefix Config.Prefix and one account per
// user ("<prefix><name>"), plus the issuer account (Config.Issuer, the
// kit's own account, whose minimum is unlimited). Server.Plugin(name)
// gives a ledger.Plugin view of one account: the connector uses the
// issuer's view, the kit uses the views to send from and listen on any
// account, and the wire interface gives one view to each authenticated
// client. A transfer between two accounts of the server settles inside the
// server; nothing leaves the process.
//
// Accounts are registered by the kit, which keeps its users in its own
// tables: CreateAccount for each at start-up (it loads the account's
// balances from the backend) and when one signs up; SetLimits and
// SetDisabled change them; AccountInfo and Accounts describe them. The
// account metadata (limits, disabled) lives in memory; balances and
// transfers live in the Backend. A name is one ILP address segment.
//
// A destination "<prefix><name>.<anything>" (a PSK address) belongs to
// account "<prefix><name>"; the transfer is recorded with To set to the
// account, and the full address stays in the ILP packet. A destination
// outside the prefix or to an unknown account fails with
// ledger.ErrAccountNotFound, a malformed one with ledger.ErrInvalidFields.
//
// Money rules of a user account (the issuer's differ only in its
// unlimited minimum):
//
//   - an outgoing amount is held at prepare (the balance drops, checked
//     against the account's minimum) and returned on reject or expiry;
//   - an incoming amount is credited at fulfill; the maximum is checked at
//     prepare against the balance plus the pending incoming amounts;
//   - an unconditional transfer moves the amount at once, with both
//     checks;
//   - the default limits of a user are minimum 0 and maximum unlimited
//     (Config.DefaultLimits changes them);
//   - a disabled account can neither send nor receive new transfers or
//     requests (ledger.ErrNotAccepted); its pending transfers still
//     resolve;
//   - a conditional transfer that expires later than now +
//     Config.MaxHoldTime is refused with ledger.ErrNotAccepted.
//
// Each account has two balances in the backend: "<name>" (the balance,
// key "balance__<name>", minimum-checked) and "<name>:in" (the balance plus
// the pending incoming amounts, maximum-checked). Every step of a transfer
// changes them in the same TransferLog call that records the step (prepare
// debits the sender's two and credits the receiver's second; fulfill
// credits the receiver's balance; reject and expiry undo the prepare), so
// each step is atomic and every limit is checked by the statement that
// applies it, never on a cached value: several processes may share one
// backend.
//
// At every instant the balances of all accounts plus the held amounts add
// up to zero: money enters only through the issuer account. Server.Totals
// adds them up (tests check it after every failure they inject).
//
// Each view of an account has its own connection, subscriptions and request handler.
// A view connects only while its Server is connected (Server.Connect, then
// the views; Server.Close disconnects them all). The events of an account
// go to every connected view of that account; Server.Subscribe (the admin
// view) receives every event of every account, with the account's name. A
// view sends only from its own account (another From fails with
// ledger.ErrInvalidFields), resolves only transfers to its account (a
// transfer it sent fails with ledger.ErrNotAccepted, any other with
// ledger.ErrTransferNotFound) and reads the fulfillments of transfers to or
// from its account. A request goes to a connected view of its destination
// that has a request handler: with no connected view it fails with
// ledger.ErrNoSubscriptions, with no handler with ledger.ErrNotAccepted. A
// view's Info gives the account's limits as MinBalance and MaxBalance and
// the issuer as the connector; SetLimits emits EventInfoChange. A view
// also lists the transfers still prepared to its account
// (PreparedIncoming), for a client that comes back.
//
// Expiry is enforced by the server from the backend, on Config.Clock:
// Connect re-arms the prepared transfers, so they expire on time after a
// restart (those already due expire at once). An expired transfer is
// cancelled with an R00 Transfer Timed Out rejection triggered by the
// prefix, and both accounts get their cancel events; a fulfillment at or
// after the expiry is refused with ledger.ErrAlreadyRolledBack, and so is
// one asked for in time whose write the backend has not taken up when the
// transfer expires (under load its queue may hold it that long; a
// connector passing a fulfillment back must not see the source transfer
// expire after the destination one was fulfilled late).
//
// # Wire interface
//
// NewHandler serves two endpoints, both authenticated by a per-account
// bearer token ("Authorization: Bearer <token>"), which a TokenVerifier
// turns into an account name; the Handler then works on a view of that
// account (Accounts.Plugin, which Server satisfies), so a client can do
// only what its account may. A missing or unknown token is answered 401
// with {"name": "UnauthorizedError", ...} and changes nothing. The Handler
// matches the last element of the path, so it serves <base>/rpc and
// <base>/ws wherever it is mounted, with or without the prefix stripped.
//
//   - POST <base>/rpc?method=<name>: one call. The body is a JSON array of
//     parameters (at most HandlerOptions.MaxBodyBytes, 1 MiB: 413 beyond);
//     the answer is 200 with the JSON result, or an error status with
//     {"name": <LPI error name>, "message": ...}: 400 InvalidFieldsError
//     (malformed JSON, wrong parameter count or types, invalid fields), 404
//     InvalidFieldsError for an unknown method, 404 TransferNotFoundError
//     and AccountNotFoundError, 409 DuplicateIdError, 422 for the other
//     refusals (NotAcceptedError, InsufficientBalanceError,
//     AlreadyFulfilledError, AlreadyRolledBackError,
//     MissingFulfillmentError, ...), 503 UnreachableError, 500 "Error" for
//     an internal failure (whose details are only logged).
//   - GET <base>/ws: a WebSocket carrying JSON text frames both ways.
//     A call:     {"id": <n>, "method": <name>, "params": [...]}
//     Its result: {"id": <n>, "result": <json>}
//     or error:   {"id": <n>, "error": {"name": ..., "message": ...}}
//     An event:   {"event": <name>, "params": [...]}
//     Ids are chosen by the caller; each side numbers its own calls. A
//     frame that cannot be read is answered with an error whose id is
//     null. Calls run concurrently and their results come in the order
//     they finish. A frame over the body limit closes the socket with 1009
//     (message too big), a binary frame with 1003; a client that reads too
//     slowly for the server's bounded queue is cut off with 1013 (try again
//     later) and catches up when it reconnects. Both sides ping.
//
// Batches: a frame may also carry a JSON array of such messages ([{...},
// {...}]), which are handled in order as if each had come in a frame of its
// own; both sides read both forms (an unreadable array is answered like an
// unreadable frame, an unreadable element like one). A side writes batches
// only to a peer that asked for them: the handshake request (client) and
// its 101 response (server) carry the header "Trustline-Batch: <n>", the
// largest frame in bytes the sender of the header reads. The other side
// then writes the messages it has queued at once in batch frames of at most
// min(n, 256 KiB) bytes (a single message as large as before still goes
// alone). This saves a frame, a system call and a wake-up per message under
// load; a peer without the header gets one message per frame.
//
// Methods a client calls (names and parameter shapes of the 2017 plugin
// RPC, PROTOCOLS.md 8.2; transfers and messages in their LPI JSON):
//
//	get_info                  []                    -> LedgerInfo JSON plus "account"
//	get_balance               []                    -> "<decimal>"
//	get_limit                 []                    -> {"minimum": "<d>"|null, "maximum": "<d>"|null}
//	send_transfer             [transfer]            -> true
//	send_request              [message]             -> message
//	fulfill_condition         [id, fulfillment]     -> true
//	reject_incoming_transfer  [id, rejection]       -> true
//	expire_transfer           [id]                  -> true (only once the transfer has expired)
//	get_fulfillment           [id]                  -> "<fulfillment>"
//
// The server expires transfers itself: expire_transfer only confirms that
// a transfer is rolled back (NotAcceptedError while it is still
// prepared). Two more calls exist only on a WebSocket:
//
//	register_request_handler   []  -> true   (forward requests to me)
//	deregister_request_handler []  -> true
//
// Once a client has registered, the server calls one method on it:
// send_request [message] -> message, for a request addressed to the
// client's account; the client answers a failing handler with an error
// response (an ILP error packet, ledger.ErrorResponse), and with
// NoSubscriptionsError when it has no handler. Without a registered
// client, a request to the account fails as the Server decides
// (NotAcceptedError or NoSubscriptionsError).
//
// Events the server pushes, with the LPI event names: incoming_prepare,
// incoming_transfer, outgoing_prepare, outgoing_transfer [transfer];
// incoming_fulfill, outgoing_fulfill [transfer, fulfillment];
// incoming_reject, incoming_cancel, outgoing_reject, outgoing_cancel
// [transfer, rejection]; info_change [ledger info]. Incoming transfers
// never carry the sender's noteToSelf. When a WebSocket opens, the server
// pushes incoming_prepare again for every transfer still prepared to the
// account (for views that implement PreparedLister), so a client that was
// away can still fulfill it; the Client emits it only if it has not
// already.
package trustline
